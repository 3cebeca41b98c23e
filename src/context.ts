import type { Db } from "./db/client.ts";

/**
 * Who is acting, and on which database: the first argument of every service function.
 * The user id comes from the authenticated session (or API key), never from a request
 * body, path or tool argument.
 */
export interface UserContext {
  readonly db: Db;
  readonly userId: string;
}
