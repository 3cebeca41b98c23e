import type { Config } from "../config.ts";
import { openDatabase } from "../db/client.ts";
import { DataDirLockedError } from "../db/lock.ts";
import { migratePg, migratePglite } from "../db/migrate.ts";
import { promoteByEmail } from "./admin.repository.ts";

/** A mistake of the operator's (unknown command, no such account): exit 1 with this message. */
export class AdminCommandError extends Error {
  override name = "AdminCommandError";
}

const USAGE = "usage: npm run admin -- promote <email>";

/**
 * `npm run admin -- promote <email>`: makes an account admin, straight on the configured
 * database (DATABASE_URL, or PGlite in DATA_DIR), with the same migrations the server
 * applies. Returns what to print.
 */
export async function runAdminCommand(config: Config, args: readonly string[]): Promise<string> {
  const [command, email, ...rest] = args;
  if (command !== "promote" || !email || rest.length > 0) throw new AdminCommandError(USAGE);
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase(config.database);
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      throw new AdminCommandError(
        `${error.message}\nThe Tasktalk server holds this PGlite directory: stop it, run the command, start it again.`,
      );
    }
    throw error;
  }
  try {
    if (config.database.kind === "pg") {
      await migratePg(config.database.url, config.database.connectTimeoutMs);
    } else {
      await migratePglite(database.db);
    }
    if (!(await promoteByEmail(database.db, email.trim()))) {
      throw new AdminCommandError(`No account with the e-mail ${email}`);
    }
    return `${email} is now an admin`;
  } finally {
    await database.close();
  }
}
