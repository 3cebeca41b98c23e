import { ConfigError, loadConfig } from "./config.ts";
import { DataDirLockedError } from "./db/lock.ts";
import { createServer } from "./server.ts";

/** Process entry: config → database → app → listen; graceful shutdown on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const config = loadConfig();
  const server = await createServer(config);
  const { app } = server;
  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    { database: server.database.kind, llm: config.llm.provider },
    `Tasktalk ready on http://${config.host}:${config.port}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down: draining requests");
    server.close({ graceMs: config.http.shutdownGraceMs }).then(
      () => {
        app.log.info("shutdown complete");
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DataDirLockedError) {
    console.error(`tasktalk: ${error.message}`);
  } else {
    console.error("tasktalk: failed to start:", error);
  }
  process.exit(1);
});
