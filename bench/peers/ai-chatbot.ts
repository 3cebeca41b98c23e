/**
 * Peer (a) — load everything, no index. Mirrors vercel/ai-chatbot, lib/db/queries.ts:
 * `getMessagesByChatId({ id })` = select * from Message_v2 where chatId = $1 order by
 * createdAt asc (the table has no index on chatId: lib/db/schema.ts declares only the
 * primary key), called on every POST /api/chat (app/(chat)/api/chat/route.ts) before
 * `saveMessages` stores the user message and, on finish, the assistant message.
 * Storage work plus the session lookup every pattern shares (common.ts): no HTTP, no model.
 */
import { benchToken, benchUser, convKey, SEED_CUTOFF, uuidOf } from "../lib/layout.ts";
import type { Sql } from "../lib/sql.ts";
import {
  ASSISTANT_TEXT,
  authenticate,
  type StoragePattern,
  toolWrite,
  USER_TEXT,
} from "./common.ts";

export class AiChatbotPattern implements StoragePattern {
  readonly name = "load-all, no index (ai-chatbot)";
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  async turn(length: number): Promise<void> {
    await authenticate(this.sql, benchToken(0));
    const chatId = uuidOf(convKey.app(length));
    // getMessagesByChatId
    const all = await this.sql.query(
      `select * from peers.ai_message where chat_id = $1 order by created_at asc`,
      [chatId],
    );
    if (all.length === 0) throw new Error("ai-chatbot: empty chat");
    // saveMessages({ messages: [userMessage] })
    await this.sql.query(
      `insert into peers.ai_message (id, chat_id, role, parts, attachments, created_at)
       values (gen_random_uuid(), $1, 'user', $2, '[]', now())`,
      [chatId, JSON.stringify([{ type: "text", text: USER_TEXT }])],
    );
    await toolWrite(this.sql, benchUser(0));
    // onFinish: saveMessages({ messages: [assistantMessage] })
    await this.sql.query(
      `insert into peers.ai_message (id, chat_id, role, parts, attachments, created_at)
       values (gen_random_uuid(), $1, 'assistant', $2, '[]', now())`,
      [chatId, JSON.stringify([{ type: "text", text: ASSISTANT_TEXT }])],
    );
  }

  async reset(): Promise<void> {
    await this.sql.query(`delete from peers.ai_message where created_at > $1`, [SEED_CUTOFF]);
  }
}
