import { validate as isUuid, v5 } from "uuid";

// Ids that are derived, not drawn: the same input always names the same row, so a retry
// (or a second instance) computes the id a first run already used.

/** Namespaces of the name-based (RFC 9562 version 5) ids below; fixed forever. */
const REPLY = "0b6d5f0e-4f57-4c8e-9a43-4d1c1b2f7a10";
const CHAT = "5c8f1d2a-9e3b-4f60-8a7d-2e4b6c9d0f31";
const CLIENT_MESSAGE = "a7e3c9b1-2d4f-4e68-b5a0-6f1d3c8e2b94";
const REGENERATED = "e2c4a6f8-1b3d-4f5a-8c7e-9d0b2a4c6e81";

/**
 * The id of the assistant reply to a user message: known before the reply is stored, so a
 * stream's `start` part can carry it (a turn has at most one reply: messages_reply_to_uq).
 */
export function replyIdFor(userMessageId: string): string {
  return v5(userMessageId, REPLY);
}

/**
 * The id of the reply that regenerates `replacedReplyId`: derived from the reply it
 * replaces, so a retried Regenerate of the same reply names the same new reply (and finds
 * it stored) instead of generating twice. Each regeneration is a new generation of the chain.
 */
export function regeneratedReplyIdFor(replacedReplyId: string): string {
  return v5(replacedReplyId, REGENERATED);
}

/**
 * The conversation an AI SDK chat id names: the id itself when it is a UUID (a
 * conversation created here), else a name-based UUID of it — the same for every user, so
 * someone else's chat id is someone else's conversation (404), never a second copy.
 */
export function conversationIdForChat(chatId: string): string {
  return isUuid(chatId) ? chatId.toLowerCase() : v5(chatId, CHAT);
}

/** The idempotency key of an AI SDK message: its id as a UUID, scoped to its conversation. */
export function clientMessageIdFor(conversationId: string, messageId: string): string {
  return isUuid(messageId)
    ? messageId.toLowerCase()
    : v5(`${conversationId}/${messageId}`, CLIENT_MESSAGE);
}
