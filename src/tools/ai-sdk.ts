import { type JSONSchema7, jsonSchema, type ToolSet, tool } from "ai";
import { z } from "zod";
import type { RequestContext } from "../context.ts";
import { runTool, TASK_TOOLS } from "./task-tools.ts";
import { type AnyToolDefinition, toolFailure } from "./tool.ts";

/**
 * The task tools as AI SDK tools for `streamText({ tools })`, bound to the caller: every
 * call runs as `ctx.userId`, whatever the model puts in the arguments.
 *
 * The model sees the JSON Schema of each definition, but the AI SDK is given no validator:
 * runTool validates with the zod schema itself, so invalid arguments come back to the model
 * as the same `{ error: { code: "validation_failed", message } }` result as any other
 * expected failure (and the same as over MCP), never as an exception.
 */
export function toAiSdkTools(
  ctx: RequestContext,
  run: ToolRunner = defaultRunner(ctx),
  definitions: readonly AnyToolDefinition[] = TASK_TOOLS,
): ToolSet {
  return Object.fromEntries(
    definitions.map((definition) => [definition.name, toAiSdkTool(ctx, definition, run)]),
  );
}

/** Runs one call: by default runTool; the chat turn records effects around it. */
export type ToolRunner = (name: string, input: unknown, toolCallId: string) => Promise<unknown>;

const defaultRunner =
  (ctx: RequestContext): ToolRunner =>
  (name, input) =>
    runTool(ctx, name, input);

function toAiSdkTool(ctx: RequestContext, definition: AnyToolDefinition, run: ToolRunner) {
  return tool({
    description: definition.description,
    inputSchema: jsonSchema<unknown>(() => inputJsonSchema(definition)),
    execute: async (input: unknown, { toolCallId }) => {
      try {
        return await run(definition.name, input, toolCallId);
      } catch (error) {
        // A database outage or a bug: the model reads the same failure an MCP client
        // would; the details stay in the log.
        ctx.log.error({ err: error, tool: definition.name }, "tool failed");
        return toolFailure(error);
      }
    },
  });
}

const schemaCache = new WeakMap<AnyToolDefinition["inputSchema"], JSONSchema7>();

/**
 * The JSON Schema a model is shown: computed once per zod schema, not per request. Keyed by
 * the schema, not the definition: a turn's chat-only tools (chat/pending-tools.ts) are new
 * definitions every turn over the same module-level schemas (converting them on every
 * turn was ~0.3 ms of CPU per turn).
 */
export function inputJsonSchema(definition: AnyToolDefinition): JSONSchema7 {
  let schema = schemaCache.get(definition.inputSchema);
  if (!schema) {
    schema = z.toJSONSchema(definition.inputSchema, {
      target: "draft-7",
      io: "input",
    }) as JSONSchema7;
    schemaCache.set(definition.inputSchema, schema);
  }
  return schema;
}
