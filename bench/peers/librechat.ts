/**
 * Peer (b) — load everything, with an index. Mirrors LibreChat before its fix,
 * api/models/Message.js: `getMessages({ conversationId })` =
 * Message.find({ conversationId }).sort({ createdAt: 1 }).lean(), which loads the whole
 * conversation on every turn to build the model's context (conversationId is indexed in
 * messageSchema), then `saveMessage` for the user message and the response — each an
 * upsert by messageId (findOneAndUpdate(..., { upsert: true, new: true })).
 * Re-implemented on PostgreSQL (LibreChat uses MongoDB): one row per document.
 * Storage work plus the session lookup every pattern shares (common.ts): no HTTP, no model.
 */
import { randomUUID } from "node:crypto";
import { benchToken, benchUser, convKey, SEED_CUTOFF, uuidOf } from "../lib/layout.ts";
import type { Sql } from "../lib/sql.ts";
import {
  ASSISTANT_TEXT,
  authenticate,
  type StoragePattern,
  toolWrite,
  USER_TEXT,
} from "./common.ts";

export class LibreChatPattern implements StoragePattern {
  readonly name = "load-all, indexed (LibreChat)";
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  private async saveMessage(m: {
    messageId: string;
    conversationId: string;
    parentMessageId: string | null;
    sender: string;
    text: string;
    isCreatedByUser: boolean;
  }): Promise<void> {
    await this.sql.query(
      `insert into peers.lc_message (message_id, conversation_id, "user", parent_message_id,
         model, endpoint, sender, text, is_created_by_user, token_count, created_at, updated_at)
       values ($1, $2, $3, $4, 'fake-model', 'openAI', $5, $6, $7, $8, now(), now())
       on conflict (message_id) do update set
         conversation_id = excluded.conversation_id, parent_message_id = excluded.parent_message_id,
         sender = excluded.sender, text = excluded.text, updated_at = now()
       returning *`,
      [
        m.messageId,
        m.conversationId,
        benchUser(0),
        m.parentMessageId,
        m.sender,
        m.text,
        m.isCreatedByUser,
        Math.ceil(m.text.length / 4),
      ],
    );
  }

  async turn(length: number): Promise<void> {
    await authenticate(this.sql, benchToken(0));
    const conversationId = uuidOf(convKey.app(length));
    // getMessages({ conversationId }): the whole conversation, oldest first
    const all = await this.sql.query<{ message_id: string }>(
      `select * from peers.lc_message where conversation_id = $1 order by created_at asc`,
      [conversationId],
    );
    const parent = all.at(-1)?.message_id ?? null;
    const userId = randomUUID();
    await this.saveMessage({
      messageId: userId,
      conversationId,
      parentMessageId: parent,
      sender: "User",
      text: USER_TEXT,
      isCreatedByUser: true,
    });
    await toolWrite(this.sql, benchUser(0));
    await this.saveMessage({
      messageId: randomUUID(),
      conversationId,
      parentMessageId: userId,
      sender: "Assistant",
      text: ASSISTANT_TEXT,
      isCreatedByUser: false,
    });
  }

  async reset(): Promise<void> {
    await this.sql.query(`delete from peers.lc_message where created_at > $1`, [SEED_CUTOFF]);
  }
}
