import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./process.ts";

export const PGBOUNCER = "/usr/sbin/pgbouncer";

export interface PgBouncer {
  port: number;
  stop(): Promise<void>;
}

/**
 * Debian's PgBouncer in transaction mode on 127.0.0.1, in front of database `dbName` of the
 * PostgreSQL server at `directPort` (trust auth, user postgres), from a temporary ini.
 * Used by the pooler tests and by the B4 benchmark.
 */
export async function startPgBouncer(
  dbName: string,
  directPort: number,
  poolSize: number,
  maxClients = 100,
): Promise<PgBouncer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tasktalk-pgbouncer-"));
  chmodSync(dir, 0o777);
  writeFileSync(join(dir, "userlist.txt"), '"postgres" ""\n');
  writeFileSync(
    join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      `${dbName} = host=127.0.0.1 port=${directPort} dbname=${dbName} user=postgres`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "auth_type = trust",
      `auth_file = ${join(dir, "userlist.txt")}`,
      "pool_mode = transaction",
      `default_pool_size = ${poolSize}`,
      `max_client_conn = ${maxClients}`,
      "ignore_startup_parameters = extra_float_digits,statement_timeout,idle_in_transaction_session_timeout",
    ].join("\n"),
  );
  // PgBouncer refuses to run as root: -u makes it switch to the postgres user.
  const asPostgres = process.getuid?.() === 0 ? ["-u", "postgres"] : [];
  const child: ChildProcess = spawn(PGBOUNCER, [...asPostgres, join(dir, "pgbouncer.ini")], {
    stdio: "ignore",
  });
  await sleep(500);
  if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}`);
  return {
    port,
    async stop() {
      if (child.exitCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGINT");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
