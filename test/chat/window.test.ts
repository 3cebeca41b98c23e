import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import * as turnRepo from "../../src/chat/turn.repository.ts";
import type { Db } from "../../src/db/client.ts";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";

// Step A reads the model's window in the same statement that stores the user message
// (one round trip fewer). These tests pin down that the model gets exactly the newest
// HISTORY_MAX_MESSAGES stored messages, both when that read is used and when it is found
// incomplete and read again.

// Step A's one statement, answering undefined when it did not start (as the tests read it).
const repo = {
  async leaseAndInsertUserMessage(
    db: Db,
    input: Parameters<typeof turnRepo.startInOneStatement>[1],
  ) {
    const started = await turnRepo.startInOneStatement(db, input);
    return started.kind === "started" ? started : undefined;
  },
  historyWindow: (db: Db, userId: string, conversationId: string, uptoSeq: number, limit: number) =>
    turnRepo.readWindow(db, { userId, conversationId, uptoSeq, limit }),
};

for (const backend of await availableBackends()) {
  describe(`the model's window [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend, { HISTORY_MAX_MESSAGES: "6" });
    });
    after(() => f.close());

    /** What the model was sent last, without the system prompt: [role, text] pairs. */
    const sentToModel = () =>
      (f.llm.requests.at(-1)?.body.messages ?? [])
        .filter((m) => m.role !== "system")
        .map((m) => [m.role, String(m.content)]);

    /** The newest 6 of `all`, from its first user message (a cut-off reply is dropped). */
    const window = (all: string[][]) => {
      const newest = all.slice(-6);
      return newest.slice(newest.findIndex(([role]) => role === "user"));
    };

    const stored = async (user: Awaited<ReturnType<typeof signUp>>, id: string) =>
      (await messagesOf(f.t, user, id, "limit=200")).items.map((m) => [m.role, m.content]);

    test("is the newest stored messages, ending with the new one", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault((req) => ({ text: `reply ${req.body.messages.length}` }));
      const first = await chat(f.t, user, { message: "message 1" });
      const id = first.json().conversation_id as string;
      for (let i = 2; i <= 6; i++) {
        const res = await chat(f.t, user, { message: `message ${i}`, conversation_id: id });
        assert.equal(res.statusCode, 200, res.body);
        const all = await stored(user, id);
        // The model saw the newest 6 stored messages up to the user's (its reply came after).
        assert.deepEqual(sentToModel(), window(all.slice(0, -1)), `turn ${i}`);
      }
    });

    test("step A's statement returns the same window as a separate read", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "ok" });
      const id = (await chat(f.t, user, { message: "one" })).json().conversation_id as string;
      for (const message of ["two", "three", "four"]) {
        await chat(f.t, user, { message, conversation_id: id });
      }
      const db = f.t.server.database.db;
      const started = await repo.leaseAndInsertUserMessage(db, {
        userId: user.id,
        conversationId: id,
        turnId: randomUUID(),
        messageId: randomUUID(),
        leaseMs: 5000,
        content: "five",
        clientMessageId: null,
        windowBefore: 5,
      });
      assert.ok(started);
      assert.equal(started.message.seq, 9);
      const separate = await repo.historyWindow(db, user.id, id, 8, 5);
      assert.deepEqual(started.windowBefore, separate);
      assert.deepEqual(
        started.windowBefore.map((m) => m.seq),
        [4, 5, 6, 7, 8],
      );
      // Someone else's conversation: nothing leased, nothing stored, nothing read.
      const other = await signUp(f.t.app);
      const refused = await repo.leaseAndInsertUserMessage(db, {
        userId: other.id,
        conversationId: id,
        turnId: randomUUID(),
        messageId: randomUUID(),
        leaseMs: 5000,
        content: "not mine",
        clientMessageId: null,
        windowBefore: 5,
      });
      assert.equal(refused, undefined);
    });

    test("with a gap in seqs (the read in step A looks incomplete) it is read again", async () => {
      const user = await signUp(f.t.app);
      f.llm.setDefault({ text: "ok" });
      const first = await chat(f.t, user, { message: "one" });
      const id = first.json().conversation_id as string;
      for (const message of ["two", "three", "four"]) {
        await chat(f.t, user, { message, conversation_id: id });
      }
      // Remove the newest reply: the message before the next one is now missing.
      await f.t.server.database.db.execute(
        sql`delete from messages where conversation_id = ${id}::uuid
            and seq = (select max(seq) from messages where conversation_id = ${id}::uuid)`,
      );
      const res = await chat(f.t, user, { message: "five", conversation_id: id });
      assert.equal(res.statusCode, 200, res.body);
      const all = await stored(user, id);
      assert.deepEqual(sentToModel(), window(all.slice(0, -1)));
      assert.deepEqual(sentToModel().at(-1), ["user", "five"]);
    });
  });
}

for (const backend of await availableBackends()) {
  describe(`a window of one message (HISTORY_MAX_MESSAGES=1) [${backend}]`, () => {
    let f: ChatFixture;
    before(async () => {
      f = await startChatApp(backend, { HISTORY_MAX_MESSAGES: "1" });
    });
    after(() => f.close());

    test("the model is sent the new message alone, also when its request starts early", async () => {
      const user = await signUp(f.t.app);
      // The first turn's model fails: "one" stays the conversation's last message, a
      // user message that the model's window must not hold next turn.
      f.llm.script({ status: 500 });
      const first = await chat(f.t, user, { message: "one" });
      assert.equal(first.statusCode, 502, first.body);
      const id = first.json().conversation_id as string;
      f.llm.setDefault({ text: "ok" });
      const res = await chat(f.t, user, { message: "two", conversation_id: id });
      assert.equal(res.statusCode, 200, res.body);
      const sent = (f.llm.requests.at(-1)?.body.messages ?? [])
        .filter((m) => m.role !== "system")
        .map((m) => [m.role, String(m.content)]);
      assert.deepEqual(sent, [["user", "two"]]);
    });
  });
}
