import type { z } from "zod";
import type { RequestContext } from "../context.ts";
import { toAppError } from "../db/db-errors.ts";
import { ERROR_CODES, type ErrorCode } from "../errors.ts";

/**
 * One tool, defined once and protocol-neutral: the AI SDK adapter (ai-sdk.ts) and the MCP
 * adapter both wrap this. The user is never an argument: it comes from `ctx`, which the
 * server builds from the authenticated session.
 */
export interface ToolDefinition<Input, Output> {
  /** snake_case, stable: models and MCP clients call tools by this name. */
  readonly name: string;
  /** Prompt text: what the tool does, when to call it, what it returns. */
  readonly description: string;
  /** True for a tool without side effects (reads only). */
  readonly readOnly?: boolean;
  /** Offered to the chat model only, never over MCP (it needs the chat turn: ctx.turn). */
  readonly chatOnly?: boolean;
  /** A z.strictObject with .describe() on every field and bounded strings. */
  readonly inputSchema: z.ZodType<Input>;
  /** The shape of a successful result (an object): MCP's outputSchema, checked by tests. */
  readonly outputSchema: z.ZodType<Output>;
  /** Runs with already validated input; expected failures throw AppError (4xx). */
  execute(ctx: RequestContext, input: Input): Promise<Output>;
}

/** A tool with its types erased, for lists of tools of different shapes. */
// Method syntax in ToolDefinition keeps `execute` bivariant, so any definition fits here.
export type AnyToolDefinition = ToolDefinition<unknown, unknown>;

/** What a caller (the model, an MCP client) receives when a call failed in an expected way. */
export interface ToolError {
  error: { code: ErrorCode; message: string };
}

export function isToolError(result: unknown): result is ToolError {
  return (
    typeof result === "object" &&
    result !== null &&
    "error" in result &&
    typeof (result as { error: unknown }).error === "object"
  );
}

/** Keeps the type of a definition while checking it against ToolDefinition. */
export function defineTool<Input, Output>(
  definition: ToolDefinition<Input, Output>,
): ToolDefinition<Input, Output> {
  return definition;
}

const MAX_MESSAGE = 500;

/**
 * The ONE conversion of a failed tool call into what the caller reads — the model (chat)
 * and MCP clients alike: an expected failure (4xx) keeps its code and detail; anything
 * else (a database outage, a bug) keeps its code from the closed list (e.g.
 * database_unavailable, worth a retry) but never its internal message.
 */
export function toolFailure(error: unknown): ToolError {
  const appError = toAppError(error);
  const message = appError.status < 500 ? appError.detail : ERROR_CODES[appError.code].title;
  return toolError(appError.code, message);
}

/** A ToolError with its message clipped: never echoing a (maybe huge) input. */
export function toolError(code: ErrorCode, message: string): ToolError {
  return { error: { code, message: clip(message, MAX_MESSAGE) } };
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
