/**
 * Builds the web page (web/ → web/dist) with Vite when the sources changed since the last
 * build, so `npm start` and the browser tests always serve a current page and a fresh
 * start costs one hash of a few small files.
 *
 *   node web/build.ts            build only if web/dist is missing or stale (prestart runs
 *                                it through scripts/build.ts)
 *   node web/build.ts --force    always build
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashInputs } from "../scripts/source-hash.ts";

const WEB = fileURLToPath(new URL(".", import.meta.url));
export const WEB_DIST = join(WEB, "dist");
const STAMP = join(WEB_DIST, ".source-hash");
const INPUTS = ["index.html", "vite.config.ts", "src"];
const TOOLS = ["vite", "@vitejs/plugin-react", "react", "react-dom"];

/** A hash of every input of the build: the sources and the versions of the tools. */
function webSourceHash(): string {
  const versions = TOOLS.map((tool) => {
    try {
      const pkg = join(WEB, "..", "node_modules", tool, "package.json");
      return `${tool}@${(JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version}`;
    } catch {
      return `${tool}@missing`;
    }
  });
  return hashInputs(WEB, INPUTS, versions);
}

/** The hash of the sources web/dist was built from, if there is a build. */
function builtHash(): string | undefined {
  if (!existsSync(join(WEB_DIST, "index.html")) || !existsSync(STAMP)) return undefined;
  return readFileSync(STAMP, "utf8").trim();
}

/** Builds web/dist unless it is already current; answers what it did. */
export async function buildWeb(options: { force?: boolean } = {}): Promise<"built" | "fresh"> {
  const hash = webSourceHash();
  if (!options.force && builtHash() === hash) return "fresh";
  const { build } = await import("vite");
  await build({ configFile: join(WEB, "vite.config.ts"), logLevel: "warn" });
  writeFileSync(STAMP, `${hash}\n`);
  return "built";
}

/** What `node web/build.ts [--force]` does: false when it failed with nothing to serve. */
export async function buildWebCommand(force: boolean): Promise<boolean> {
  const started = performance.now();
  try {
    const result = await buildWeb({ force });
    if (result === "built") {
      console.log(`web: built web/dist in ${Math.round(performance.now() - started)} ms`);
    }
    return true;
  } catch (error) {
    if (existsSync(join(WEB_DIST, "index.html")) && !force) {
      console.warn("web: the build failed; serving the previous web/dist:", error);
      return true;
    }
    console.error("web: the build failed:", error);
    return false;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!(await buildWebCommand(process.argv.includes("--force")))) process.exitCode = 1;
}
