import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { sql } from "drizzle-orm";
import { rowsOf } from "../../src/db/client.ts";
import { type ChatFixture, chat, messagesOf, signUp, startChatApp } from "../support/chat.ts";
import { availableBackends } from "../support/databases.ts";
import { type ProxiedDatabase, proxiedTestDatabase } from "../support/tcp-proxy.ts";

/** PostgreSQL's CommandComplete message for COMMIT: 'C', length 11, "COMMIT\0". */
const COMMIT_COMPLETE = Buffer.from([0x43, 0, 0, 0, 11, ...Buffer.from("COMMIT\0")]);

const backends = await availableBackends();

describe("a connection cut right after COMMIT (D4) [pg]", {
  skip: !backends.includes("pg"),
}, () => {
  let f: ChatFixture;
  let db: ProxiedDatabase;
  before(async () => {
    db = await proxiedTestDatabase();
    f = await startChatApp(
      "pg",
      { DATABASE_URL: db.url, TURN_LEASE_MS: "3000" },
      { testDb: db.testDb },
    );
  });
  after(async () => {
    await f.close();
    await db.close();
  });

  test("no blind retry; the client's retry with the same client_message_id gives one turn, one row", async () => {
    const user = await signUp(f.t.app);
    f.llm.setDefault({ text: "the one and only answer" });
    const id = randomUUID();
    const cut = db.proxy.cutOnServerBytes(COMMIT_COMPLETE);
    const before = f.llm.requests.length;
    const first = await chat(f.t, user, { message: "hello there", client_message_id: id });
    await cut;
    // The server committed the user message, but the app cannot know: it must not retry
    // the transaction blindly (that would store the message twice) nor run the model.
    assert.equal(first.statusCode, 503, first.body);
    assert.equal(first.json().code, "database_unavailable");
    assert.equal(f.llm.requests.length, before);

    const rows = async () =>
      rowsOf<{ role: string }>(
        await f.t.server.database.db.execute(
          sql`select role from messages where user_id = ${user.id} order by seq`,
        ),
      ).map((r) => r.role);
    assert.deepEqual(await rows(), ["user"], "committed exactly once");

    // The lease taken with that message belongs to a request that is gone: it expires
    // (no heartbeat renews it) and the retry then runs the turn.
    let retry = await chat(f.t, user, { message: "hello there", client_message_id: id });
    for (let i = 0; i < 10 && retry.statusCode === 409; i++) {
      retry = await chat(f.t, user, { message: "hello there", client_message_id: id });
    }
    assert.equal(retry.statusCode, 200, retry.body);
    assert.equal(retry.json().response, "the one and only answer");
    assert.deepEqual(await rows(), ["user", "assistant"]);
    const again = await chat(f.t, user, { message: "hello there", client_message_id: id });
    assert.equal(again.json().message_id, retry.json().message_id);
    assert.equal((await messagesOf(f.t, user, retry.json().conversation_id)).items.length, 2);
  });
});
