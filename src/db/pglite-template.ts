/**
 * A migrated, empty PGlite data directory, kept ready to copy, so that a first start does
 * not pay for PGlite's initdb, every migration and pg-boss's schema: creating a fresh
 * directory took 4 s on a quiet machine and 16-20 s on a loaded one (issue 16, first
 * start ≤ 5 s). A first start copies the template's files into DATA_DIR (`PG_VERSION`
 * last, so an interrupted copy is still a fresh directory and is copied again) and opens it
 * as any existing directory. It was a tarball (PGlite's `dumpDataDir`) until PGlite's
 * `loadDataDir` was measured at ~0.9 s more than opening the same directory
 * (docs/benchmarks.md, eighth pass).
 *
 * `npm ci` builds it (the `prepare` script, scripts/pglite-template.ts) under
 * node_modules/.cache/tasktalk/, named by a fingerprint of PGlite's and pg-boss's versions
 * and the migrations: a template of another PGlite, pg-boss or other migrations is never
 * used (a start without a matching one initializes the directory as before). It holds only
 * what the migrations and pg-boss's schema create: no secret, no user, no queue (the auth
 * secret and the queues are made at first start).
 */
import { createHash } from "node:crypto";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { JOBS_SCHEMA } from "../jobs/schema.ts";
import { rootPath } from "../paths.ts";
import type { Db } from "./client.ts";

const CACHE_DIR = rootPath("node_modules", ".cache", "tasktalk");
/** The same folder as migrate.ts's (not imported: client.ts imports this module). */
const MIGRATIONS_FOLDER = rootPath("drizzle");

function packageVersion(...name: string[]): string {
  const pkg = JSON.parse(readFileSync(rootPath("node_modules", ...name, "package.json"), "utf8"));
  return (pkg as { version: string }).version;
}

/** PGlite's and pg-boss's versions and every migration file: what the template holds. */
function fingerprint(): string {
  const hash = createHash("sha256");
  hash.update(packageVersion("@electric-sql", "pglite")).update("\0");
  hash.update(packageVersion("pg-boss")).update("\0");
  for (const dir of [MIGRATIONS_FOLDER, join(MIGRATIONS_FOLDER, "meta")]) {
    for (const name of readdirSync(dir).sort()) {
      if (name.endsWith(".sql") || name === "_journal.json") {
        hash.update(name).update(readFileSync(join(dir, name)));
      }
    }
  }
  return hash.digest("hex").slice(0, 16);
}

export function templatePath(): string {
  return join(CACHE_DIR, `pglite-${fingerprint()}`);
}

/** The template for this PGlite, pg-boss and these migrations, if one was built. */
export function findTemplate(): string | undefined {
  try {
    const path = templatePath();
    return existsSync(join(path, "PG_VERSION")) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** True when `dataDir` holds no PostgreSQL cluster yet (a first start). */
export function isFreshDataDir(dataDir: string): boolean {
  return !existsSync(join(dataDir, "PG_VERSION"));
}

/**
 * Copies the template's cluster into `dataDir` (made if missing; files of ours already
 * there, such as the lock, stay). `PG_VERSION` is copied last: until it is there the
 * directory counts as fresh, so a copy cut short is made again at the next start.
 */
export function copyTemplate(template: string, dataDir: string): void {
  mkdirSync(dataDir, { recursive: true });
  cpSync(template, dataDir, {
    recursive: true,
    filter: (source) => source !== join(template, "PG_VERSION"),
  });
  copyFileSync(join(template, "PG_VERSION"), join(dataDir, "PG_VERSION"));
}

/**
 * Builds the template (a PGlite directory, migrated, with pg-boss's schema, closed);
 * returns its path. Built beside its final place and renamed into it, so a template that
 * exists is whole.
 */
export async function buildTemplate(): Promise<{ path: string; built: boolean }> {
  const path = templatePath();
  if (existsSync(join(path, "PG_VERSION"))) return { path, built: false };
  const { migratePglite } = await import("./migrate.ts");
  const { PgBoss, fromPglite } = await import("pg-boss");
  const partial = `${path}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(CACHE_DIR, { recursive: true });
  const client = await PGlite.create(partial);
  try {
    await migratePglite(drizzle({ client }) as unknown as Db);
    // pg-boss's schema as src/jobs/queue.ts creates it (same schema name, migrate on).
    const boss = new PgBoss({
      schema: JOBS_SCHEMA,
      backend: "pglite",
      db: fromPglite(client),
      migrate: true,
      supervise: false,
      schedule: false,
    });
    await boss.start();
    await boss.stop({ graceful: false, close: false });
  } finally {
    await client.close();
  }
  rmSync(path, { recursive: true, force: true });
  renameSync(partial, path);
  return { path, built: true };
}
