/**
 * Both builds in one process: the web page (web/build.ts) and the server bundle
 * (scripts/build-server.ts), each only where an input changed. `npm start` runs it first
 * (`prestart`): one Node start instead of two before the server's own (~0.2-0.9 s of a
 * first start, by machine; docs/benchmarks.md).
 *
 *   node scripts/build.ts            build what is missing or stale
 *   node scripts/build.ts --force    build both
 */
import { buildWebCommand } from "../web/build.ts";
import { buildServerCommand } from "./build-server.ts";

const force = process.argv.includes("--force");
if (!(await buildWebCommand(force)) || !(await buildServerCommand(force))) process.exitCode = 1;
