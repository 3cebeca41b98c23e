/**
 * Builds the web page (web/ → web/dist) with Vite when the sources changed since the last
 * build, so `npm start` and the browser tests always serve a current page and a fresh
 * start costs one hash of a few small files.
 *
 *   node web/build.ts            build only if web/dist is missing or stale (prestart)
 *   node web/build.ts --force    always build
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const WEB = fileURLToPath(new URL(".", import.meta.url));
export const WEB_DIST = join(WEB, "dist");
const STAMP = join(WEB_DIST, ".source-hash");
const INPUTS = ["index.html", "vite.config.ts", "src"];
const TOOLS = ["vite", "@vitejs/plugin-react", "react", "react-dom"];

function files(path: string): string[] {
  if (!existsSync(path)) return [];
  return readdirSync(path, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** A hash of every input of the build: the sources and the versions of the tools. */
export function webSourceHash(): string {
  const hash = createHash("sha256");
  for (const input of INPUTS) {
    const path = join(WEB, input);
    const list = input.includes(".") ? (existsSync(path) ? [path] : []) : files(path);
    for (const file of list) {
      hash.update(relative(WEB, file));
      hash.update("\0");
      hash.update(readFileSync(file));
      hash.update("\0");
    }
  }
  for (const tool of TOOLS) {
    try {
      const pkg = join(WEB, "..", "node_modules", tool, "package.json");
      hash.update(
        `${tool}@${(JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version}`,
      );
    } catch {
      hash.update(`${tool}@missing`);
    }
  }
  return hash.digest("hex");
}

/** True when web/dist holds a build of the current sources. */
export function webIsFresh(): boolean {
  if (!existsSync(join(WEB_DIST, "index.html")) || !existsSync(STAMP)) return false;
  return readFileSync(STAMP, "utf8").trim() === webSourceHash();
}

/** Builds web/dist unless it is already current; answers what it did. */
export async function buildWeb(options: { force?: boolean } = {}): Promise<"built" | "fresh"> {
  if (!options.force && webIsFresh()) return "fresh";
  const hash = webSourceHash();
  const { build } = await import("vite");
  await build({ configFile: join(WEB, "vite.config.ts"), logLevel: "warn" });
  writeFileSync(STAMP, `${hash}\n`);
  return "built";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const force = process.argv.includes("--force");
  const started = performance.now();
  try {
    const result = await buildWeb({ force });
    if (result === "built") {
      console.log(`web: built web/dist in ${Math.round(performance.now() - started)} ms`);
    }
  } catch (error) {
    if (existsSync(join(WEB_DIST, "index.html")) && !force) {
      console.warn("web: the build failed; serving the previous web/dist:", error);
    } else {
      console.error("web: the build failed:", error);
      process.exitCode = 1;
    }
  }
}
