import { connect, createServer, type Server, type Socket } from "node:net";
import { createTestDatabase, type TestDatabase } from "./databases.ts";

/**
 * A TCP proxy on 127.0.0.1 in front of a real server, for fault tests: cut every open
 * connection (like a network drop or pg_terminate_backend), or refuse new ones (like a
 * server that is down), then come back.
 */
export interface TcpProxy {
  port: number;
  /** Destroys every proxied connection now. */
  cutAll(): void;
  /**
   * The next time the server sends bytes containing `marker` (e.g. PostgreSQL's
   * CommandComplete "COMMIT"), drop that connection instead of passing them on: the
   * server has done the work, the client never hears of it.
   */
  cutOnServerBytes(marker: Buffer): Promise<void>;
  /** New connections are refused (and existing ones cut) until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(
  targetPort: number,
  targetHost = "127.0.0.1",
): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let trap: { marker: Buffer; sprung: () => void } | undefined;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on("close", () => sockets.delete(sock));
          sock.on("error", () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream);
        upstream.on("data", (chunk: Buffer) => {
          if (trap && chunk.includes(trap.marker)) {
            const { sprung } = trap;
            trap = undefined;
            client.destroy();
            upstream.destroy();
            sprung();
            return;
          }
          client.write(chunk);
        });
      });
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        const address = s.address();
        if (address && typeof address === "object") port = address.port;
        server = s;
        resolve();
      });
    });

  const cutAll = () => {
    for (const sock of sockets) sock.destroy();
    sockets.clear();
  };

  const stop = () =>
    new Promise<void>((resolve) => {
      cutAll();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });

  await listen();
  return {
    get port() {
      return port;
    },
    cutAll,
    cutOnServerBytes: (marker) =>
      new Promise<void>((resolve) => {
        trap = { marker, sprung: resolve };
      }),
    down: stop,
    up: listen,
    close: stop,
  };
}

/** A fresh PostgreSQL test database reached only through a TcpProxy (to cut it at will). */
export interface ProxiedDatabase {
  testDb: TestDatabase;
  proxy: TcpProxy;
  /** The database's URL through the proxy. */
  url: string;
  /** Stops the proxy and drops the database (after the app using it has closed). */
  close(): Promise<void>;
}

export async function proxiedTestDatabase(): Promise<ProxiedDatabase> {
  const testDb = await createTestDatabase("pg");
  const url = new URL(testDb.url ?? "");
  const proxy = await startTcpProxy(Number(url.port || 5432));
  url.port = String(proxy.port);
  return {
    testDb,
    proxy,
    url: url.toString(),
    async close() {
      await proxy.close();
      await testDb.drop();
    },
  };
}
