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
export type ChatTopic =
  | "greeting"
  | "thanks"
  | "help"
  | "bye"
  | "unknown"
  | "too_long"
  // Requests about tasks it cannot do or did not understand (judgement.ts):
  | "not_english"
  | "cant_repeat"
  | "cant_schedule"
  | "unclear_task"
  /** A bare "yes" / "no" when no question is waiting for it. */
  | "no_question";

/**
 * What a question or a negation is about; it is answered from list_tasks, never acted on.
 * done: "did I pay the rent?"; delete: "should I delete …?"; not_done: "I haven't paid the
 * bill yet"; keep: "don't delete …"; keep_open: "don't mark … as done".
 */
export type AskMode = "done" | "delete" | "not_done" | "keep" | "keep_open";

export type Priority = "none" | "low" | "medium" | "high";

/** A due date as the tools take it: the user's words (the server parses them), or null to clear. */
export type DueWords = { string: string } | null;

/** A list the user named ("my shopping list"): used only if a list by that name exists. */
export interface ListWish {
  name: string;
  /** The title to use when no such list exists (the words stay in it). */
  fallbackTitle?: string;
}

/** What "finished this week" means, in the user's zone. */
export type Period = "today" | "yesterday" | "this_week" | "last_week" | "this_month";

/** A view of the list beyond its status: the filters list_tasks takes, and what to answer. */
export interface View {
  due?: "today" | "overdue" | "upcoming" | "none";
  list?: string;
  label?: string;
  priority?: Priority;
  q?: string;
  /** Only tasks due that many days from today ("what's due tomorrow?"). */
  inDays?: number;
  /** "How many …?": answer with the number (list_tasks total). */
  count?: boolean;
  /** "What did I finish this week?": completed tasks, finished within the period. */
  finished?: Period;
}

export type Intent =
  | {
      kind: "add";
      title?: string;
      description?: string;
      due?: DueWords;
      priority?: Priority;
      list?: ListWish;
      labels?: string[];
    }
  | { kind: "list"; status: Status; view?: View }
  | { kind: "complete"; ref?: Ref }
  | { kind: "reopen"; ref?: Ref }
  | { kind: "delete"; ref?: Ref }
  | {
      kind: "update";
      ref?: Ref;
      title?: string;
      description?: string;
      due?: DueWords;
      priority?: Priority;
      list?: string;
      /** Repeat words ("every friday"), or null to stop repeating (recurrence.ts). */
      recurrence?: string | null;
      /** Labels to add to / take from the task's own (update_task replaces the whole set). */
      addLabels?: string[];
      removeLabels?: string[];
    }
  | { kind: "chat"; topic: ChatTopic }
  | { kind: "ask"; mode: AskMode; ref?: Ref }
  /** "Undo", "put it back": undo_last_turn. */
  | { kind: "undo" }
  /** "Restore task 3", "bring back the dentist task": restore_task. */
  | { kind: "restore"; ref?: Ref };

export type ActionKind = "complete" | "reopen" | "delete" | "update";

/** A task as list_tasks reports it; `id` is the per-user task number. */
export interface TaskView {
  id: number;
  title: string;
  description?: string | null;
  completed: boolean;
  /** Compact list_tasks items: "2026-12-01 17:00" | "2026-12-01" | null. */
  due?: string | null;
  priority?: string;
  list?: string;
  labels?: string[];
  completed_at?: string | null;
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
