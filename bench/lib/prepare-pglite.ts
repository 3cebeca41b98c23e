/**
 * Seeds (or checks) the benchmark's PGlite directory in its own process, so that
 * bench/run.ts can seed PostgreSQL at the same time: PGlite's seeding runs on the main
 * thread and would otherwise hold up everything else in the bench process.
 */
import { startInProcess } from "./backends.ts";

const app = await startInProcess("pglite", "http://127.0.0.1:9/unused");
await app.close();
