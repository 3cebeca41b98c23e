/**
 * The bundle's entry (`npm start` runs dist/main.mjs, built from this file by
 * scripts/build-server.ts): turns on Node's on-disk compile cache, then loads the server
 * (src/main.ts). An entry's static imports are compiled before any of its code runs, so the
 * cache is enabled here, in a module that imports nothing of ours, and the rest is loaded
 * after it. From the second start on, V8 reads the bundle's compiled code instead of
 * compiling it again (from start to a failed first connection, the bundle loaded: 0.64 →
 * 0.55 s, medians of 8 alternating runs; docs/benchmarks.md, eighth pass). The cache lives
 * where Node puts it by default (NODE_COMPILE_CACHE, else the system's temporary
 * directory); NODE_DISABLE_COMPILE_CACHE=1 turns it off, and a directory that cannot be
 * written only means no cache.
 */
import { enableCompileCache, flushCompileCache } from "node:module";

enableCompileCache?.();
await import("./main.ts");
// Written now rather than only at exit: a server that is killed never exits cleanly.
flushCompileCache?.();
