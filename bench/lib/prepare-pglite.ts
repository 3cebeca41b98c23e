/**
 * Seeds (or checks) the benchmark's PGlite directory in its own process, so that
 * bench/run.ts can seed PostgreSQL at the same time: PGlite's seeding runs on the main
 * thread and would otherwise hold up everything else in the bench process. Prints PGlite's
 * PostgreSQL version (the report's versions line) on stdout.
 *
 *   node bench/lib/prepare-pglite.ts '<Setup as JSON>'   (bench/run.ts passes its setup)
 */
import { FULL, type Setup, startInProcess } from "./backends.ts";

const arg = process.argv[2];
const setup = arg ? (JSON.parse(arg) as Setup) : FULL;
const app = await startInProcess(setup, "pglite", "http://127.0.0.1:9/unused");
const [row] = await app.sql.query<{ v: string }>("select version() as v");
await app.close();
process.stdout.write(`${row?.v.split(" ")[1] ?? "?"}\n`);
