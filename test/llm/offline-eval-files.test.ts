/**
 * The eval case files (eval/*.jsonl) as regression tests: every phrasing that the
 * end-to-end eval (`npm run eval:assistant`) accepts must keep working. Here they run
 * in-process against the offline model with in-memory tools (fast); the eval script runs
 * the same cases through a real server.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Case, check, type Expect } from "./offline-expect.test.ts";
import { converse, NOW, type Outcome, session } from "./offline-harness.test.ts";

/** A case of the multi-turn format: the turns are sent one after another in one conversation. */
type FileCase = Case & { turns?: Array<{ say: string; expect: Expect }> };

async function conversation(c: FileCase): Promise<void> {
  const s = session(c.tasks ?? [], { timezone: c.tz ?? "UTC", now: NOW });
  for (const t of c.turns ?? []) {
    let o: Outcome = await s.say(t.say);
    // confirm_ok: the assistant may ask first (nothing changed, a question); then "yes".
    const asked = JSON.stringify(o.rows) === JSON.stringify(o.before) && o.text.includes("?");
    if (t.expect.confirm_ok && asked) o = { ...(await s.say("yes")), before: o.before };
    check({ ...c, say: t.say, expect: t.expect }, o);
  }
}

const EVAL_DIR = fileURLToPath(new URL("../../eval/", import.meta.url));

for (const file of readdirSync(EVAL_DIR).filter((f) => f.endsWith(".jsonl"))) {
  const cases = readFileSync(`${EVAL_DIR}${file}`, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as FileCase);
  describe(`eval/${file}`, () => {
    for (const c of cases) {
      if (c.turns) {
        test(`${c.id}: ${c.turns.map((t) => t.say).join(" → ")}`, () => conversation(c));
        continue;
      }
      test(`${c.id}: ${c.say}`, async () => {
        check(c, await converse(c.tasks ?? [], c.say, c.tz));
      });
    }
  });
}
