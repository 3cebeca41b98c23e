import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { TaskScope } from "../auth/auth.ts";
import type { RequestContext } from "../context.ts";
import { toAppError } from "../db/db-errors.ts";
import { runTool, TASK_TOOLS } from "./task-tools.ts";
import { type AnyToolDefinition, isToolError, toolError, toolFailure } from "./tool.ts";

/**
 * Hints for MCP clients (shown to people, used to decide what needs a confirmation). They
 * describe the tools; they never grant anything.
 */
const ANNOTATIONS: Record<string, ToolAnnotations> = {
  add_task: {
    title: "Add a task",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
  },
  list_tasks: { title: "List tasks", readOnlyHint: true },
  complete_task: {
    title: "Complete a task",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
  },
  delete_task: {
    title: "Delete a task",
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
  },
  update_task: {
    title: "Update a task",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
  },
  restore_task: {
    title: "Restore a deleted task",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
  },
};

export interface McpToolOptions {
  /**
   * Who each call acts as. Asked per call, so a caller can re-check a credential (the stdio
   * entry re-validates its API key: a revoked key stops working without a restart).
   */
  context(): Promise<RequestContext>;
  /** Told about unexpected failures (5xx), which reach the client as a generic tool error. */
  onError(error: unknown, toolName: string): void;
  /** Told the outcome of every call: "ok" or the failure's code (metrics). */
  onOutcome?(toolName: string, outcome: string): void;
  /**
   * What the caller's credential allows (an OAuth token's or an API key's scopes); absent:
   * everything. Without `tasks:write`, only the read-only tools run; the others answer an
   * `insufficient_scope` tool error.
   */
  scopes?: readonly TaskScope[];
}

/**
 * Registers the task tools on an MCP server, bound to one user: every call runs as the user
 * of `options.context()`, whatever the arguments say.
 *
 * The SDK validates arguments against each definition's strict zod schema first (extra
 * properties such as `user_id` are refused) and answers a failure as an `isError` result;
 * runTool then validates again and turns every expected failure (not found, invalid) into
 * `{ error: { code, message } }` — sent as an `isError` result too, never a JSON-RPC error.
 */
export function registerMcpTools(server: McpServer, options: McpToolOptions): void {
  for (const definition of TASK_TOOLS) {
    if (definition.chatOnly) continue; // needs a chat turn (undo_last_turn)
    const annotations = ANNOTATIONS[definition.name];
    server.registerTool(
      definition.name,
      {
        ...(annotations?.title ? { title: annotations.title } : {}),
        description: definition.description,
        inputSchema: definition.inputSchema,
        // What a successful call's structuredContent holds (the SDK checks it); a failure
        // is an isError result with { error: { code, message } } instead.
        outputSchema: definition.outputSchema,
        ...(annotations ? { annotations: { ...annotations, openWorldHint: false } } : {}),
      },
      (args: unknown) => callTool(definition, args, options),
    );
  }
}

async function callTool(
  definition: AnyToolDefinition,
  args: unknown,
  options: McpToolOptions,
): Promise<CallToolResult> {
  // A tool that only reads (definition.readOnly: list_tasks) needs tasks:read alone.
  if (options.scopes && !options.scopes.includes("tasks:write") && !definition.readOnly) {
    options.onOutcome?.(definition.name, "insufficient_scope");
    return toCallToolResult(
      toolError(
        "insufficient_scope",
        `${definition.name} changes tasks: this connection was granted tasks:read only. ` +
          "Reconnect and allow tasks:write to make changes.",
      ),
    );
  }
  try {
    const ctx = await options.context();
    const result = await runTool(ctx, definition.name, args);
    options.onOutcome?.(definition.name, isToolError(result) ? result.error.code : "ok");
    return toCallToolResult(result);
  } catch (error) {
    // A database outage or a bug: the client learns the code, never the internal message.
    if (toAppError(error).status >= 500) options.onError(error, definition.name);
    const failure = toolFailure(error);
    options.onOutcome?.(definition.name, failure.error.code);
    return toCallToolResult(failure);
  }
}

/**
 * A tool's result as MCP content: `structuredContent` (a JSON object, matching the tool's
 * outputSchema) and the same JSON as text for clients that read text. A failure is an
 * `isError` result with `{ error: { code, message } }` as text only: clients (the official
 * SDK's included) check any structuredContent against the outputSchema, errors too, and
 * an error is not a task.
 */
export function toCallToolResult(result: unknown): CallToolResult {
  const structured =
    typeof result === "object" && result !== null && !Array.isArray(result)
      ? (result as Record<string, unknown>)
      : { items: result };
  const content: CallToolResult["content"] = [{ type: "text", text: JSON.stringify(structured) }];
  if (isToolError(result)) return { content, isError: true };
  return { content, structuredContent: structured };
}
