/**
 * Bundles the server (src/main.ts and everything it imports, node_modules included) into
 * dist/ with esbuild, so `npm start` loads a few files instead of some two thousand
 * modules: a cold start then spends ~0.2 s instead of ~0.8 s importing code (see
 * docs/benchmarks.md, B6). PGlite stays external: it loads its WebAssembly and data files
 * from its own package directory. The build runs only when an input changed.
 *
 *   node scripts/build-server.ts            build only if dist/ is missing or stale
 *                                           (prestart runs it through scripts/build.ts)
 *   node scripts/build-server.ts --force    always build
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashInputs } from "./source-hash.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SERVER_DIST = join(ROOT, "dist");
export const SERVER_ENTRY = join(SERVER_DIST, "main.mjs");
const STAMP = join(SERVER_DIST, ".source-hash");
/** What the bundle is made of: our sources, the locked dependency versions, this script. */
const INPUTS = ["src", "package-lock.json", "scripts/build-server.ts"];
/**
 * Kept out of the bundle, loaded from node_modules at run time. @fastify/swagger-ui serves
 * the Swagger UI files from its own package directory (found through __dirname).
 */
const EXTERNAL = ["@electric-sql/pglite", "pg-native", "@fastify/swagger-ui"];

function serverSourceHash(): string {
  return hashInputs(ROOT, INPUTS);
}

/** The hash of the sources dist/ was built from, if there is a build. */
function builtHash(): string | undefined {
  if (!existsSync(SERVER_ENTRY) || !existsSync(STAMP)) return undefined;
  return readFileSync(STAMP, "utf8").trim();
}

export async function buildServer(options: { force?: boolean } = {}): Promise<"built" | "fresh"> {
  const hash = serverSourceHash();
  if (!options.force && builtHash() === hash) return "fresh";
  const { build } = await import("esbuild");
  rmSync(SERVER_DIST, { recursive: true, force: true });
  await build({
    // src/start.ts enables the compile cache, then loads src/main.ts.
    entryPoints: { main: join(ROOT, "src/start.ts") },
    outdir: SERVER_DIST,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true, // the offline assistant stays a chunk loaded only when it is the provider
    format: "esm",
    platform: "node",
    target: "node24",
    external: EXTERNAL,
    sourcemap: "linked",
    legalComments: "linked",
    logLevel: "warning",
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: {
      js: 'import { createRequire as __ttCreateRequire } from "node:module"; const require = __ttCreateRequire(import.meta.url);',
    },
  });
  writeFileSync(STAMP, `${hash}\n`);
  return "built";
}

/** What `node scripts/build-server.ts [--force]` does: false when the build failed. */
export async function buildServerCommand(force: boolean): Promise<boolean> {
  const started = performance.now();
  try {
    const result = await buildServer({ force });
    if (result === "built") {
      console.log(`server: built dist/ in ${Math.round(performance.now() - started)} ms`);
    }
    return true;
  } catch (error) {
    console.error("server: the build failed:", error);
    return false;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!(await buildServerCommand(process.argv.includes("--force")))) process.exitCode = 1;
}
