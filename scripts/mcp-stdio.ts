#!/usr/bin/env node
// Tasktalk's MCP server over stdio, for desktop MCP clients that start a local process
// (`npm run mcp:stdio`, or the `tasktalk-mcp` bin). Acts as the owner of TASKTALK_API_KEY on
// the configured database (DATABASE_URL, or PGlite in DATA_DIR when no server holds it).
// stdout is the protocol: logs go to stderr only.
import pino from "pino";
import { ConfigError, loadConfig } from "../src/config.ts";
import { serializeError } from "../src/http/log.ts";
import { StdioStartError, startStdioServer } from "../src/mcp/mcp-stdio.ts";

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino(
    // The same error serializer as the server: never a query's parameters (an API key).
    { name: "tasktalk-mcp", level: config.logLevel, serializers: { err: serializeError } },
    pino.destination({ fd: 2, sync: true }),
  );
  const server = await startStdioServer(config, log);
  const stop = (signal: string) => {
    log.info({ signal }, "stopping");
    server.close().catch((error: unknown) => log.error({ err: error }, "closing failed"));
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  await server.closed;
  process.exit(0);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StdioStartError) {
    console.error(`tasktalk-mcp: ${error.message}`);
  } else {
    console.error("tasktalk-mcp: failed to start:", error);
  }
  process.exit(1);
});
