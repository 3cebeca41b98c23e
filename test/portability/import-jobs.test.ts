import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ASYNC_IMPORT_ABOVE } from "../../src/portability/import.jobs.ts";
import { signUp, startTestApp, type TestApp, type TestUser } from "../support/app.ts";
import { availableBackends } from "../support/databases.ts";

// A large file imports as a job: 202 and a Location to poll; the progress only grows and
// ends at the total; the same file again creates nothing; another user's job is a 404.

const HEADER =
  "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE,DURATION,DURATION_UNIT,DEADLINE,DEADLINE_LANG";
function todoistCsv(rows: number): string {
  const lines = [HEADER, "meta,view_style=list,,,,,,,,,,,,"];
  for (let i = 1; i <= rows; i++) {
    lines.push(`task,Row ${i} of the big file,,${(i % 4) + 1},1,Ada (1),,,en,UTC,,,,`);
  }
  return `${lines.join("\n")}\n`;
}

interface JobJson {
  id: string;
  state: "queued" | "running" | "done" | "failed";
  total: number;
  processed: number;
  created: number;
  skipped: number;
  errors: unknown[];
}

async function postCsv(t: TestApp, user: TestUser, csv: string, query = "") {
  return t.app.inject({
    method: "POST",
    url: `/api/import?format=todoist${query}`,
    headers: { ...user.headers, "content-type": "text/csv" },
    payload: csv,
  });
}

/** Polls the job until it ends; every reading is returned (bounded: 3 minutes). */
async function follow(t: TestApp, user: TestUser, location: string): Promise<JobJson[]> {
  const seen: JobJson[] = [];
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const res = await t.app.inject({ url: location, headers: user.headers });
    assert.equal(res.statusCode, 200, res.body);
    const job = res.json() as JobJson;
    seen.push(job);
    if (job.state === "done" || job.state === "failed") return seen;
    await sleep(100);
  }
  assert.fail(`the import job did not end: ${JSON.stringify(seen.at(-1))}`);
}

async function countTasks(t: TestApp, user: TestUser): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const res = await t.app.inject({
      url: `/api/tasks?status=all&limit=200${cursor ? `&cursor=${cursor}` : ""}`,
      headers: user.headers,
    });
    const page = res.json() as { items: unknown[]; next_cursor: string | number | null };
    count += page.items.length;
    cursor = page.next_cursor === null ? null : String(page.next_cursor);
  } while (cursor);
  return count;
}

for (const backend of await availableBackends()) {
  describe(`import jobs [${backend}]`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(backend, { JOBS_POLL_INTERVAL_MS: "500" });
    });
    after(() => t.close());

    test("a 2,000-row Todoist CSV imports as a job; again, it creates nothing", async () => {
      const user = await signUp(t.app, "Big importer");
      const other = await signUp(t.app, "Someone else");
      const csv = todoistCsv(2000);
      const res = await postCsv(t, user, csv);
      assert.equal(res.statusCode, 202, res.body);
      const started = res.json() as JobJson;
      assert.equal(res.headers.location, `/api/import/jobs/${started.id}`);
      assert.equal(started.total, 2000);
      assert.ok(["queued", "running"].includes(started.state));

      const location = String(res.headers.location);
      const theirs = await t.app.inject({ url: location, headers: other.headers });
      assert.equal(theirs.statusCode, 404);

      const seen = await follow(t, user, location);
      const last = seen.at(-1) as JobJson;
      assert.equal(last.state, "done", JSON.stringify(last));
      assert.deepEqual(
        {
          processed: last.processed,
          total: last.total,
          created: last.created,
          skipped: last.skipped,
        },
        { processed: 2000, total: 2000, created: 2000, skipped: 0 },
      );
      assert.deepEqual(last.errors, []);
      for (let i = 1; i < seen.length; i++) {
        const [a, b] = [seen[i - 1] as JobJson, seen[i] as JobJson];
        assert.ok(
          b.processed >= a.processed,
          `progress went back: ${a.processed} → ${b.processed}`,
        );
        assert.ok(b.processed <= b.total);
      }
      // Progress was seen along the way, not only at the end.
      assert.ok(
        seen.some((j) => j.processed > 0 && j.processed < 2000),
        `no progress in between: ${seen.map((j) => j.processed).join(",")}`,
      );
      assert.equal(await countTasks(t, user), 2000);
      assert.equal(await countTasks(t, other), 0);

      const again = await postCsv(t, user, csv);
      assert.equal(again.statusCode, 202, again.body);
      const second = (await follow(t, user, String(again.headers.location))).at(-1) as JobJson;
      assert.deepEqual(
        { state: second.state, created: second.created, skipped: second.skipped },
        { state: "done", created: 0, skipped: 2000 },
      );
      assert.equal(await countTasks(t, user), 2000);
    });

    test("a small file still answers at once; async=true makes even it a job", async () => {
      const user = await signUp(t.app, "Small importer");
      const small = todoistCsv(ASYNC_IMPORT_ABOVE);
      const res = await postCsv(t, user, small);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(
        (res.json() as { tasks: { created: number } }).tasks.created,
        ASYNC_IMPORT_ABOVE,
      );

      const queued = await postCsv(t, user, todoistCsv(3), "&async=true");
      assert.equal(queued.statusCode, 202, queued.body);
      const done = (await follow(t, user, String(queued.headers.location))).at(-1) as JobJson;
      assert.deepEqual(
        { state: done.state, total: done.total, processed: done.processed, skipped: done.skipped },
        { state: "done", total: 3, processed: 3, skipped: 3 },
      );
    });

    test("a bad file is refused at once, before any job", async () => {
      const user = await signUp(t.app, "Bad file");
      const res = await t.app.inject({
        method: "POST",
        url: "/api/import?format=tasktalk&async=true",
        headers: { ...user.headers, "content-type": "text/plain" },
        payload: "{not json",
      });
      assert.equal(res.statusCode, 400, res.body);
    });
  });
}
