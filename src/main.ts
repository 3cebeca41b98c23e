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
    {
      database: server.database.kind,
      ...(server.database.dataDirFrom ? { dataDir: server.database.dataDirFrom } : {}),
      llm: config.llm.provider,
    },
    `Tasktalk ready on http://${config.host}:${config.port}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down: draining requests");
    // SIGTERM is what orchestrators and balancers' hosts send: readiness fails first.
    // SIGINT is Ctrl-C at a terminal, where nobody is routing traffic: stop at once.
    const graceMs = signal === "SIGTERM" ? config.http.shutdownGraceMs : 0;
    server.close({ graceMs }).then(
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
