/**
 * The eval case files (eval/*.jsonl) as regression tests: every phrasing that the
 * end-to-end eval (`npm run eval:assistant`) accepts must keep working. Here they run
 * in-process against the offline model with in-memory tools (fast); the eval script runs
 * the same cases through a real server.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type Case, check } from "./offline-expect.test.ts";
import { converse } from "./offline-harness.test.ts";

const EVAL_DIR = fileURLToPath(new URL("../../eval/", import.meta.url));

for (const file of readdirSync(EVAL_DIR).filter((f) => f.endsWith(".jsonl"))) {
  const cases = readFileSync(`${EVAL_DIR}${file}`, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Case);
  describe(`eval/${file}`, () => {
    for (const c of cases) {
      test(`${c.id}: ${c.say}`, async () => {
        check(c, await converse(c.tasks ?? [], c.say, c.tz));
      });
    }
  });
}
