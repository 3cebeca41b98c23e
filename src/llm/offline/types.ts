/**
 * Shared shapes of the offline assistant: what a user asked for (Intent), which task(s)
 * they pointed at (Ref), and what the tools report back (TaskView, ToolOutcome).
 */

export type Status = "all" | "pending" | "completed";

/** How the user pointed at task(s): by number, by words of the title, or by a selector. */
export type Ref =
  | { kind: "numbers"; numbers: number[] }
  | { kind: "words"; text: string }
  | { kind: "last" }
  | { kind: "all"; status: Status };

/** "too_long": a request over MAX_REQUEST_CHARS, which is not parsed (bounds.ts). */
export type ChatTopic = "greeting" | "thanks" | "help" | "bye" | "unknown" | "too_long";

export type Intent =
  | { kind: "add"; title?: string; description?: string }
  | { kind: "list"; status: Status }
  | { kind: "complete"; ref?: Ref }
  | { kind: "delete"; ref?: Ref }
  | { kind: "update"; ref?: Ref; title?: string; description?: string }
  | { kind: "chat"; topic: ChatTopic };

export type ActionKind = "complete" | "delete" | "update";

/** A task as list_tasks reports it; `id` is the per-user task number. */
export interface TaskView {
  id: number;
  title: string;
  description?: string | null;
  completed: boolean;
}

export interface ToolError {
  code: string;
  message: string;
}

/** One tool call of the current turn, paired with its decoded result (if it came back). */
export interface ToolStep {
  toolName: string;
  input: Record<string, unknown>;
  /** Decoded result value; `undefined` while the call has no result in the prompt. */
  result?: unknown;
  error?: ToolError;
}

/** What the model decided to do on this call. */
export type Decision =
  | { type: "text"; text: string }
  | { type: "tools"; calls: Array<{ toolName: string; input: Record<string, unknown> }> };
