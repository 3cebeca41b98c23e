/**
 * Builds the migrated PGlite template a first start loads (src/db/pglite-template.ts).
 * Run by `npm ci` (the `prepare` script); does nothing when the current one exists.
 *
 *   node scripts/pglite-template.ts
 */
import { buildTemplate } from "../src/db/pglite-template.ts";

const started = performance.now();
const { path, built } = await buildTemplate();
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  built ? `PGlite template built in ${seconds} s: ${path}` : `PGlite template current: ${path}`,
);
