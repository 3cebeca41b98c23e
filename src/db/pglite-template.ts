/**
 * A migrated, empty PGlite data directory, kept as a tarball (PGlite's own
 * `dumpDataDir`), so that a first start does not pay for PGlite's initdb and every
 * migration: creating a fresh directory took 4 s on a quiet machine and 16-20 s on a
 * loaded one; loading it from this template takes 0.5-3 s (issue 16, first start ≤ 5 s).
 *
 * `npm ci` builds it (the `prepare` script, scripts/prepare.ts) under
 * node_modules/.cache/tasktalk/, named by a fingerprint of PGlite's version and the
 * migrations: a template of another PGlite or other migrations is never used (a start
 * without a matching one initializes the directory as before). It holds only what the
 * migrations create: no secret, no user (the auth secret is made at first start).
 */
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { rootPath } from "../paths.ts";
import type { Db } from "./client.ts";

const CACHE_DIR = rootPath("node_modules", ".cache", "tasktalk");
/** The same folder as migrate.ts's (not imported: client.ts imports this module). */
const MIGRATIONS_FOLDER = rootPath("drizzle");

/** PGlite's version and every migration file: what the template's contents depend on. */
function fingerprint(): string {
  const hash = createHash("sha256");
  const pkg = JSON.parse(
    readFileSync(rootPath("node_modules", "@electric-sql", "pglite", "package.json"), "utf8"),
  ) as { version: string };
  hash.update(pkg.version);
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
  return join(CACHE_DIR, `pglite-${fingerprint()}.tar.gz`);
}

/** The template for this PGlite and these migrations, if one was built. */
export function readTemplate(): Blob | undefined {
  try {
    const path = templatePath();
    return existsSync(path) ? new Blob([readFileSync(path)]) : undefined;
  } catch {
    return undefined;
  }
}

/** True when `dataDir` holds no PostgreSQL cluster yet (a first start). */
export function isFreshDataDir(dataDir: string): boolean {
  return !existsSync(join(dataDir, "PG_VERSION"));
}

/** Builds the template (an in-memory PGlite, migrated, dumped); returns its path. */
export async function buildTemplate(): Promise<{ path: string; built: boolean }> {
  const path = templatePath();
  if (existsSync(path)) return { path, built: false };
  const { migratePglite } = await import("./migrate.ts");
  const client = await PGlite.create();
  try {
    await migratePglite(drizzle({ client }) as unknown as Db);
    const dump = await client.dumpDataDir("gzip");
    mkdirSync(CACHE_DIR, { recursive: true });
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, path);
    return { path, built: true };
  } finally {
    await client.close();
  }
}
