import pg from "pg";

/**
 * The partitioned test schema (issue 16 item 7, "ready to shard by user"): turns a migrated
 * PostgreSQL database's `conversations`, `messages` and `tasks` into tables
 * `PARTITION BY HASH (user_id)`, keeping every default, check, key, index, trigger and
 * foreign key (both directions), and the rows. PostgreSQL refuses a primary key or unique
 * index of a partitioned table that lacks the partition key — the rule Citus applies to a
 * table distributed by user_id — so this conversion failing is the test failing: some key
 * of user data no longer includes user_id. TEST_PG_PARTITIONED=1 runs the pg suite on it
 * (test/support/databases.ts).
 */
export const PARTITIONED_TABLES = ["conversations", "messages", "tasks"] as const;
export const PARTITIONS = 4;

interface Definition {
  table: string;
  name: string;
  def: string;
}

export async function partitionByUser(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on("error", () => {});
  await client.connect();
  const tables = [...PARTITIONED_TABLES];
  const query = async <R extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
    (await client.query<R>(text, values)).rows;
  try {
    await client.query("begin");
    // Everything that names the tables, read before they change.
    const foreignKeys = await query<Definition>(
      `select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as def
         from pg_constraint
        where contype = 'f'
          and (conrelid = any($1::regclass[]) or confrelid = any($1::regclass[]))
        order by conname`,
      [tables],
    );
    const keys = await query<Definition>(
      `select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as def
         from pg_constraint
        where contype in ('p', 'u', 'x') and conrelid = any($1::regclass[])
        order by conname`,
      [tables],
    );
    const indexes = await query<Definition>(
      `select i.indrelid::regclass::text as table, i.indexrelid::regclass::text as name,
              pg_get_indexdef(i.indexrelid) as def
         from pg_index i
        where i.indrelid = any($1::regclass[])
          and not exists (select 1 from pg_constraint c
                           where c.conindid = i.indexrelid and c.contype in ('p', 'u', 'x'))
        order by 2`,
      [tables],
    );
    const triggers = await query<Definition>(
      `select tgrelid::regclass::text as table, tgname as name, pg_get_triggerdef(oid) as def
         from pg_trigger
        where tgrelid = any($1::regclass[]) and not tgisinternal
        order by tgname`,
      [tables],
    );

    for (const fk of foreignKeys) {
      await client.query(`alter table ${fk.table} drop constraint ${quote(fk.name)}`);
    }
    for (const table of tables) {
      const old = quote(`${table}_unpartitioned`);
      await client.query(`alter table ${quote(table)} rename to ${old}`);
      // Keys and indexes come back below under their own names, once the rows are in.
      await client.query(
        `create table ${quote(table)} (like ${old} including all excluding indexes)
           partition by hash (user_id)`,
      );
      for (let i = 0; i < PARTITIONS; i++) {
        await client.query(
          `create table ${quote(`${table}_p${i}`)} partition of ${quote(table)}
             for values with (modulus ${PARTITIONS}, remainder ${i})`,
        );
      }
      await client.query(`insert into ${quote(table)} select * from ${old}`);
      await client.query(`drop table ${old}`);
    }
    for (const key of keys) {
      await client.query(`alter table ${key.table} add constraint ${quote(key.name)} ${key.def}`);
    }
    for (const index of indexes) await client.query(index.def);
    for (const trigger of triggers) await client.query(trigger.def);
    for (const fk of foreignKeys) {
      await client.query(`alter table ${fk.table} add constraint ${quote(fk.name)} ${fk.def}`);
    }
    // A partition's index is named after its parent's (`<index>_p<n>`), as Citus names a
    // shard's (`<index>_<shard id>`): a unique violation still says which key it was.
    const children = await query<{ child: string; parent: string; partition: string }>(
      `select ci.relname as child, pi.relname as parent, t.relname as partition
         from pg_inherits h
         join pg_class ci on ci.oid = h.inhrelid and ci.relkind = 'i'
         join pg_class pi on pi.oid = h.inhparent
         join pg_index x on x.indexrelid = ci.oid
         join pg_class t on t.oid = x.indrelid
        where t.relname like any($1::text[])`,
      [tables.map((table) => `${table}\\_p%`)],
    );
    for (const { child, parent, partition } of children) {
      const suffix = partition.slice(partition.lastIndexOf("_"));
      await client.query(`alter index ${quote(child)} rename to ${quote(`${parent}${suffix}`)}`);
    }
    await client.query("commit");
    await client.query(`analyze ${tables.map(quote).join(", ")}`);
  } catch (error) {
    await client.query("rollback").catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

/** The partitioned tables of the public schema (pg-boss partitions its own). */
export async function partitionedTables(client: pg.ClientBase): Promise<string[]> {
  const result = await client.query<{ name: string }>(
    `select c.relname as name from pg_partitioned_table p join pg_class c on c.oid = p.partrelid
      where c.relnamespace = 'public'::regnamespace order by 1`,
  );
  return result.rows.map((row) => row.name);
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
