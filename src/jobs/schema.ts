/** The PostgreSQL schema pg-boss keeps its tables in (queue.ts; the PGlite template). */
export const JOBS_SCHEMA = "pgboss";
