/**
 * What the build scripts (web/build.ts, scripts/build-server.ts) use to decide whether
 * their output is stale: one hash of their inputs' paths and contents.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/** Every file under `path`, sorted; none if it does not exist. */
function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  return readdirSync(path, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/**
 * A sha256 over `inputs` (paths relative to `root`: a name with a dot is a file, any other
 * a directory), each file's relative path and bytes, then `extra` strings (tool versions).
 */
export function hashInputs(root: string, inputs: string[], extra: string[] = []): string {
  const hash = createHash("sha256");
  for (const input of inputs) {
    const path = join(root, input);
    const list = input.includes(".") ? (existsSync(path) ? [path] : []) : filesUnder(path);
    for (const file of list) {
      hash.update(relative(root, file));
      hash.update("\0");
      hash.update(readFileSync(file));
      hash.update("\0");
    }
  }
  for (const item of extra) hash.update(item);
  return hash.digest("hex");
}
