import type { ModelMessage, ToolSet } from "ai";
import type { Activity } from "../activity/activity.ts";
import type { Config } from "../config.ts";
import type { Message, StoredToolCall } from "../conversations/conversation.ts";
import type { AppError } from "../errors.ts";
import type { ModelCatalog } from "../models/catalog.ts";
import type { ModelSpec } from "../models/model.ts";
import type { Generated, GenerationDeps, PartListener } from "./generate.ts";
import type { Lease } from "./lease.ts";

// The types of one chat turn, from the request to its outcome (turn.service.ts).

export interface TurnInput {
  message: string;
  conversationId?: string | undefined;
  clientMessageId?: string | undefined;
  /** A conversationId not found is created with that id (AI SDK clients name their chats). */
  createConversation?: boolean;
  /** The model the turn runs on (the conversation's, or a new conversation's choice). */
  model: ModelSpec;
  /**
   * Set by an early request (speculate.ts): the id step A gives the new message in an
   * existing conversation; step A then does not read the window (the request holds it).
   */
  messageId?: string;
}

export interface TurnDeps extends Omit<GenerationDeps, "model"> {
  models: ModelCatalog;
  /** How long a send to a busy conversation waits before 409 turn_in_progress. */
  turnQueueMs: number;
  /** How long a turn's lease lasts without renewal; renewed every third of it. */
  turnLeaseMs: number;
  history: Config["history"];
}

/** A turn that has its user message stored and holds the conversation's lease. */
export interface StartedTurn extends Lease {
  kind: "run";
  userMessage: Message;
  model: ModelSpec;
  /** The model's window (ending with userMessage) when step A could read it too. */
  window?: Message[];
  /** An earlier run of this turn died before its reply was stored: it may have done things. */
  rerun?: boolean;
  /** Regenerate (regenerate.ts): the reply this run replaces and what its turn did. */
  regenerate?: Regeneration;
  /** The generation already running for this turn, started while step A committed. */
  running?: Running;
}

/** A generation under way (turn.service.ts beginGeneration): parts go to whoever attaches. */
export interface Running {
  /** Receives the parts so far, then every later one; at most one listener. */
  attach(listener: PartListener | undefined): void;
  done: Promise<{ generated: Generated; plan: GenerationPlan }>;
}

/** What the model was given: the context manifest and step B are built from it. */
export interface GenerationPlan {
  window: Message[];
  given: Message[];
  earlier: ModelMessage[];
  note: string | undefined;
  tools: ToolSet;
  prior: StoredToolCall[];
  replayed: Set<string>;
}

export interface Regeneration {
  replaces: Message;
  /** The new reply's id (ids.ts regeneratedReplyIdFor). */
  replyId: string;
  /** The activity log's entries of the turn so far: told to the model and to the user. */
  effects: Activity[];
}

/** A repeated send whose reply is already stored: answered from the database, as the first was. */
export interface ReplayedTurn {
  kind: "replay";
  conversationId: string;
  userMessage: Message;
  reply: Message;
  /** The stored reply ended in an error: the replay answers with the same code. */
  error: AppError | undefined;
  /** A repeated Regenerate: the reply it replaced and the turn's activity. */
  regenerate?: Regeneration;
}

export interface TurnOutcome {
  conversationId: string;
  userMessage: Message;
  /** undefined when the model failed before producing anything (nothing stored). */
  reply: Message | undefined;
  error: AppError | undefined;
  regenerate?: Regeneration | undefined;
}
