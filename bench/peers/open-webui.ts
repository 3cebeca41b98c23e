/**
 * Peer (c) — whole-chat JSON blob rewrite. Mirrors Open WebUI,
 * backend/open_webui/models/chats.py: `Chats.update_chat_by_id(id, chat)` — db.get(Chat,
 * id), chat_item.chat = <the whole chat JSON>, commit, db.refresh(chat_item) — reached
 * once for the user's message (POST /api/v1/chats/{id} with the whole chat) and once for
 * the assistant's (`upsert_message_to_chat_by_id_and_message_id`: get_chat_by_id, append
 * into history.messages, update_chat_by_id). So per turn the whole chat JSON is read,
 * appended to and written back twice. The chat keeps both `history.messages` (a map)
 * and the `messages` list, as the web client sends it.
 * Storage work plus the session lookup every pattern shares (common.ts): no HTTP, no model.
 */
import { randomUUID } from "node:crypto";
import { benchToken, benchUser, convKey } from "../lib/layout.ts";
import type { Sql } from "../lib/sql.ts";
import {
  ASSISTANT_TEXT,
  authenticate,
  type StoragePattern,
  toolWrite,
  USER_TEXT,
} from "./common.ts";

interface OwuiMessage {
  id: string;
  parentId: string | null;
  childrenIds: string[];
  role: string;
  content: string;
  timestamp: number;
  models?: string[];
}
interface OwuiChat {
  title: string;
  history: { messages: Record<string, OwuiMessage>; currentId: string | null };
  messages: OwuiMessage[];
  [key: string]: unknown;
}

export class OpenWebUiPattern implements StoragePattern {
  readonly name = "JSON blob rewrite (Open WebUI)";
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** get_chat_by_id → append → update_chat_by_id (update, commit, refresh). */
  private async append(id: string, role: string, content: string): Promise<void> {
    const [row] = await this.sql.query<{ chat: OwuiChat }>(
      `select * from peers.owui_chat where id = $1`,
      [id],
    );
    if (!row) throw new Error("open-webui: chat not found");
    const chat = row.chat;
    const parentId = chat.history.currentId;
    const message: OwuiMessage = {
      id: randomUUID(),
      parentId,
      childrenIds: [],
      role,
      content,
      timestamp: Math.floor(Date.now() / 1000),
      models: ["fake-model"],
    };
    const parent = parentId ? chat.history.messages[parentId] : undefined;
    if (parent) parent.childrenIds.push(message.id);
    chat.history.messages[message.id] = message;
    chat.history.currentId = message.id;
    chat.messages.push(message);
    await this.sql.query(
      `update peers.owui_chat set chat = $2, title = $3, updated_at = $4 where id = $1`,
      [id, JSON.stringify(chat), chat.title, Math.floor(Date.now() / 1000)],
    );
    await this.sql.query(`select * from peers.owui_chat where id = $1`, [id]); // db.refresh
  }

  async turn(length: number): Promise<void> {
    await authenticate(this.sql, benchToken(0));
    const id = convKey.app(length);
    await this.append(id, "user", USER_TEXT);
    await toolWrite(this.sql, benchUser(0));
    await this.append(id, "assistant", ASSISTANT_TEXT);
  }

  async reset(): Promise<void> {
    await this.sql.query(
      `update peers.owui_chat c set chat = s.chat from peers.owui_seed s where c.id = s.id`,
    );
  }
}
