/** One query interface over a pg Pool and a PGlite instance, for seeding, resets and floors. */
import type { PGlite } from "@electric-sql/pglite";
import type pg from "pg";

export interface Sql {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Several statements, no parameters. */
  exec(text: string): Promise<void>;
}

export function pgSql(pool: pg.Pool | pg.Client): Sql {
  return {
    async query<T>(text: string, params?: unknown[]) {
      const result = await pool.query(text, params);
      return result.rows as T[];
    },
    async exec(text: string) {
      await pool.query(text);
    },
  };
}

export function pgliteSql(client: PGlite): Sql {
  return {
    async query<T>(text: string, params?: unknown[]) {
      const result = await client.query<T>(text, params);
      return result.rows;
    },
    async exec(text: string) {
      await client.exec(text);
    },
  };
}
