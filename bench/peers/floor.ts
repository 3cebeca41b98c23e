/**
 * The raw-SQL floor: the statements of one turn issued directly with the driver, each in
 * autocommit, no ORM, no HTTP, no model — the least any design can do. The session lookup
 * (authenticate) + last-50 read by the (conversation_id, seq) index + user insert + tool
 * write + assistant insert, on Tasktalk's own tables, in conversations of the same lengths.
 */
import { benchToken, benchUser, convKey, uuidOf } from "../lib/layout.ts";
import { resetTasktalk } from "../lib/seed.ts";
import type { Sql } from "../lib/sql.ts";
import {
  ASSISTANT_TEXT,
  authenticate,
  type StoragePattern,
  TOOL_CALL,
  toolWrite,
  USER_TEXT,
} from "./common.ts";

export class RawFloor implements StoragePattern {
  readonly name = "raw SQL floor";
  private readonly seqs = new Map<string, number>();
  private readonly sql: Sql;
  private readonly key: (length: number) => string;
  private readonly userId: string;
  private readonly token: string;

  constructor(sql: Sql, key: (length: number) => string = convKey.floor, client = 0) {
    this.sql = sql;
    this.key = key;
    this.userId = benchUser(client);
    this.token = benchToken(client);
  }

  async turn(length: number): Promise<void> {
    await authenticate(this.sql, this.token);
    const key = this.key(length);
    const conversationId = uuidOf(key);
    let seq = this.seqs.get(key);
    if (seq === undefined) {
      const [row] = await this.sql.query<{ s: string }>(
        `select coalesce(max(seq), 0) as s from messages where conversation_id = $1`,
        [conversationId],
      );
      seq = Number(row?.s ?? 0);
    }
    const window = await this.sql.query(
      `select id, seq, role, content, tool_calls from messages
       where conversation_id = $1 and user_id = $2 order by seq desc limit 50`,
      [conversationId, this.userId],
    );
    if (window.length === 0) throw new Error("floor: empty window");
    const [user] = await this.sql.query<{ id: string }>(
      `insert into messages (conversation_id, user_id, seq, role, content)
       values ($1, $2, $3, 'user', $4) returning id`,
      [conversationId, this.userId, seq + 1, USER_TEXT],
    );
    await toolWrite(this.sql, this.userId);
    await this.sql.query(
      `insert into messages (conversation_id, user_id, seq, role, content, tool_calls, reply_to)
       values ($1, $2, $3, 'assistant', $4, $5, $6)`,
      [conversationId, this.userId, seq + 2, ASSISTANT_TEXT, JSON.stringify([TOOL_CALL]), user?.id],
    );
    this.seqs.set(key, seq + 2);
  }

  async reset(): Promise<void> {
    await resetTasktalk(this.sql, [...this.seqs.keys()]);
    this.seqs.clear();
  }
}
