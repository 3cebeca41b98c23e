import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Account, ClientSide, ok, type RunResult, type TodomanTodo } from "./clients.ts";

/**
 * Client-side steps shared by the Tasktalk and the Radicale tests: the same commands a
 * person types, so a difference in outcome is the server's.
 */

/** A client folder for the account: discovered, list names fetched, synced once. */
export async function setUpClient(
  account: Account,
  label: string,
  cleanup: ClientSide[],
): Promise<ClientSide> {
  const side = new ClientSide(account, label);
  cleanup.push(side);
  ok(await side.discover());
  ok(await side.metasync());
  ok(await side.sync());
  return side;
}

/** The one pending todo whose summary is `summary` (fails listing what there is). */
export async function findTodo(
  side: ClientSide,
  summary: string,
  all = false,
): Promise<TodomanTodo> {
  const { todos, result } = await side.list(all ? ["-s", "ANY"] : []);
  const found = todos.filter((t) => t.summary === summary);
  assert.equal(found.length, 1, `todo "${summary}" ×${found.length} in:\n${result.stdout}`);
  return found[0] as TodomanTodo;
}

/**
 * `todoman edit --raw` with an $EDITOR that rewrites the SUMMARY line: todoman has no flag
 * for the summary outside its interactive (TTY) editor.
 */
export async function editSummary(
  side: ClientSide,
  id: number,
  summary: string,
): Promise<RunResult> {
  const editor = join(side.dir, "edit-summary.sh");
  writeFileSync(
    editor,
    '#!/bin/sh\nexec /usr/bin/python3 -c \'import os,re,sys; p=sys.argv[1]; t=open(p).read(); open(p,"w").write(re.sub(r"(?m)^SUMMARY:.*$", "SUMMARY:"+os.environ["NEW_SUMMARY"], t, count=1))\' "$1"\n',
  );
  chmodSync(editor, 0o755);
  return ok(
    await side.todoman(["edit", "--raw", String(id)], { EDITOR: editor, NEW_SUMMARY: summary }),
  );
}

export interface ConcurrentOutcome {
  localAfter412: string;
  serverAfter412: string;
  /** vdirsyncer's output of every sync, for assertion messages. */
  log: string;
}

/**
 * One item changed on both sides. `arm` makes the other change land between vdirsyncer's
 * listing and its PUT (through the proxy the account URL points at), so the PUT carries a
 * stale ETag: a real 412. Then: a second sync with no conflict_resolution (vdirsyncer stops
 * and says so), and a third with `conflict_resolution = "a wins"` (the local copy wins).
 */
export async function concurrentEdit(
  side: ClientSide,
  summary: string,
  arm: () => Promise<void>,
  serverItem: () => Promise<string>,
): Promise<ConcurrentOutcome> {
  const todo = await findTodo(side, summary);
  await editSummary(side, todo.id, `${summary} (both pages)`);
  await arm();
  const first = await side.sync();
  let log = first.transcript;
  assert.notEqual(first.code, 0, `vdirsyncer should fail the item on 412:\n${log}`);
  const localAfter412 = localItem(side, `${summary} (both pages)`);
  const serverAfter412 = await serverItem();

  const second = await side.sync();
  log += `\n${second.transcript}`;
  assert.notEqual(second.code, 0, `a conflict without conflict_resolution is an error:\n${log}`);
  assert.match(second.stderr + second.stdout, /conflict/i, log);
  assert.equal(localItem(side, `${summary} (both pages)`), localAfter412, log);

  side.writeConfig("a wins");
  const third = await side.sync();
  log += `\n${third.transcript}`;
  ok(third);
  log += await settle(side);
  side.writeConfig(null);
  return { localAfter412, serverAfter412, log };
}

/**
 * Syncs until vdirsyncer has nothing to do (at most 4 runs) and returns the transcripts. A
 * server that rewrites what it is sent answers a PUT without an ETag (RFC 7231 4.3.4), so
 * vdirsyncer downloads the item once more on the next sync; more than that is a loop.
 */
export async function settle(side: ClientSide): Promise<string> {
  let log = "";
  for (let i = 0; i < 4; i++) {
    const result = ok(await side.sync());
    log += `\n${result.transcript}`;
    if (!/Copying|Deleting/.test(result.stderr)) return log;
  }
  throw new Error(`vdirsyncer still copies items after 4 syncs:${log}`);
}

/** The local .ics text of the item whose SUMMARY is `summary`. */
export function localItem(side: ClientSide, summary: string): string {
  const hits = side
    .files()
    .filter((f) => new RegExp(`^SUMMARY:${escapeRegExp(summary)}\\r?$`, "m").test(f.text));
  assert.equal(hits.length, 1, `local items with SUMMARY ${summary}: ${hits.length}`);
  return hits[0]?.text ?? "";
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
