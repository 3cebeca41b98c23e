/**
 * A TCP proxy on 127.0.0.1 that adds latency to a link (B4): every chunk from the server
 * to the client is held for `delayMs` before it is passed on, so each round trip takes at
 * least that much longer. Node's timers have a 1 ms granularity, so 1 ms is the least it
 * can add; chunks keep their order (one timer queue per connection).
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface DelayProxy {
  port: number;
  close(): Promise<void>;
}

export async function startDelayProxy(
  targetPort: number,
  delayMs: number,
  targetHost = "127.0.0.1",
): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    for (const sock of [client, upstream]) {
      sockets.add(sock);
      sock.setNoDelay(true);
      sock.on("close", () => sockets.delete(sock));
      sock.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    // Server → client: delayed, in order.
    let chain = Promise.resolve();
    upstream.on("data", (chunk: Buffer) => {
      chain = chain.then(
        () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              if (!client.destroyed) client.write(chunk);
              resolve();
            }, delayMs),
          ),
      );
    });
    upstream.on("end", () => void chain.then(() => client.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
