import { randomUUID } from "node:crypto";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Logger } from "pino";
import { assertNotBanned } from "../admin/access.repository.ts";
import { resolveAccess, toRole } from "../admin/features.ts";
import { authenticateApiKey } from "../api-keys/api-key.service.ts";
import type { Config } from "../config.ts";
import { type RequestContext, systemContext } from "../context.ts";
import { type Database, openDatabase } from "../db/client.ts";
import { DataDirLockedError } from "../db/lock.ts";
import { migratePg, migratePglite } from "../db/migrate.ts";
import { AppError } from "../errors.ts";
import { createMcpServer } from "./mcp-server.ts";

/** A failure to start, with a message written for the person configuring the client. */
export class StdioStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StdioStartError";
  }
}

export interface StdioServer {
  /** Resolves once the client has gone (stdin closed) or close() was called. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves the task tools over stdio for the owner of TASKTALK_API_KEY, straight on the
 * configured database (the same service functions as the HTTP server; no HTTP hop).
 * stdout carries the protocol only: every log line goes to the logger (stderr).
 *
 * The key is checked at start (a clear error instead of a client that lists tools and then
 * fails) and again on every tool call, so revoking it takes effect without a restart.
 */
export async function startStdioServer(config: Config, log: Logger): Promise<StdioServer> {
  const apiKey = config.mcp.stdioApiKey;
  if (!apiKey) {
    throw new StdioStartError(
      "TASKTALK_API_KEY is not set: create a personal API key (POST /api/api-keys) and pass it in the MCP client's env.",
    );
  }
  const database = await open(config, log);
  try {
    const owner = await authenticateApiKey(database.db, apiKey);
    if (!owner) {
      throw new StdioStartError("TASKTALK_API_KEY is not a valid API key, or it was revoked.");
    }
    log.info({ user: owner.id, database: database.kind }, "Tasktalk MCP (stdio) ready");
    const context = async (): Promise<RequestContext> => {
      const user = await authenticateApiKey(database.db, apiKey);
      if (!user) throw new AppError("unauthorized", "TASKTALK_API_KEY was revoked");
      // A disabled account, or one without API keys or MCP, is refused here as over HTTP.
      assertNotBanned(user.access);
      const access = resolveAccess(
        toRole(user.access.role),
        user.access.roleFeatures,
        user.access.userFeatures,
        config.quotas.limits,
      );
      if (!access.apiKeys || !access.mcp) {
        throw new AppError(
          "feature_disabled",
          "MCP with an API key is not enabled for this account",
        );
      }
      return systemContext(database.db, user.id, {
        door: "stdio",
        log,
        requestId: randomUUID(),
        timezone: user.timezone,
      });
    };
    const server = createMcpServer({
      context,
      scopes: owner.scopes,
      onError: (error, tool) => log.error({ err: error, tool }, "MCP tool failed"),
    });
    const transport = new StdioServerTransport();
    transport.onerror = (error) => log.warn({ err: error }, "stdio transport error");

    let closing: Promise<void> | undefined;
    let resolveClosed: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      resolveClosed = resolve;
    });
    const close = () => {
      closing ??= (async () => {
        try {
          await server.close();
        } finally {
          await database.close();
          resolveClosed();
        }
      })();
      return closing;
    };
    // The SDK transport does not watch for the end of stdin: a client that exits ends us.
    process.stdin.once("end", () => {
      close().catch((error: unknown) => log.error({ err: error }, "closing failed"));
    });
    await server.connect(transport);
    return { closed, close };
  } catch (error) {
    await database.close();
    throw error;
  }
}

async function open(config: Config, log: Logger): Promise<Database> {
  let database: Database;
  try {
    database = await openDatabase(config.database, log);
  } catch (error) {
    if (error instanceof DataDirLockedError) {
      throw new StdioStartError(
        `${error.message}\nThe Tasktalk HTTP server probably holds this PGlite directory. Either ` +
          `connect the MCP client to the server's HTTP endpoint (http://${config.host}:${config.port}/mcp ` +
          "with the header Authorization: Bearer <API key>), or run the server and this stdio " +
          "entry against PostgreSQL by setting DATABASE_URL for both.",
        { cause: error },
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
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}
