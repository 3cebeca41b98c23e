import { connect, createServer, type Socket } from "node:net";

/**
 * A TCP proxy in front of PostgreSQL for the faults test/support/tcp-proxy.ts cannot make:
 * - blackhole(): a network partition. Nothing is closed and nothing is answered: bytes in
 *   both directions, and new connections, are held (as TCP would keep retransmitting) and
 *   delivered on heal().
 * - fatal(sqlstate): the server refuses every NEW connection after its startup message with
 *   a FATAL ErrorResponse (e.g. 28P01: wrong password, impossible to raise for real on a
 *   trust-auth server); open connections keep working.
 */
export interface FaultProxy {
  port: number;
  blackhole(): void;
  /** Starts the partition when a client sends bytes containing `marker` (held, too). */
  blackholeOn(marker: Buffer): void;
  /**
   * Ends the partition. With `{ dropHeld: true }` the connections open during it stay
   * black for good (their peer died and nobody said so); new ones are forwarded.
   */
  heal(options?: { dropHeld?: boolean }): void;
  fatal(sqlstate: string, message: string): void;
  close(): Promise<void>;
}

interface Pair {
  dead?: boolean;
  client: Socket;
  upstream: Socket | undefined;
  held: { to: "client" | "upstream"; chunk: Buffer }[];
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  let mode: "forward" | "blackhole" | { sqlstate: string; message: string } = "forward";
  const pairs = new Set<Pair>();
  let trap: Buffer | undefined;

  const send = (pair: Pair, to: "client" | "upstream", chunk: Buffer) => {
    const target = to === "client" ? pair.client : pair.upstream;
    if (pair.dead) return;
    if (mode === "blackhole" || !target || pair.held.length > 0) pair.held.push({ to, chunk });
    else target.write(chunk);
  };
  const open = (pair: Pair) => {
    const upstream = connect(targetPort, "127.0.0.1");
    pair.upstream = upstream;
    upstream.on("data", (chunk: Buffer) => send(pair, "client", chunk));
    upstream.on("error", () => pair.client.destroy());
    upstream.on("close", () => pair.client.destroy());
    flush(pair);
  };
  const flush = (pair: Pair) => {
    if (!pair.upstream) return open(pair);
    const held = pair.held.splice(0);
    for (const { to, chunk } of held) (to === "client" ? pair.client : pair.upstream).write(chunk);
  };

  const server = createServer((client) => {
    const pair: Pair = { client, upstream: undefined, held: [] };
    pairs.add(pair);
    client.on("close", () => {
      pairs.delete(pair);
      pair.upstream?.destroy();
    });
    client.on("error", () => client.destroy());
    if (typeof mode === "object") {
      const { sqlstate, message } = mode;
      client.once("data", () => client.end(errorResponse(sqlstate, message)));
      return;
    }
    client.on("data", (chunk: Buffer) => {
      if (trap && chunk.includes(trap)) {
        trap = undefined;
        mode = "blackhole";
      }
      send(pair, "upstream", chunk);
    });
    if (mode === "forward") open(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = address && typeof address === "object" ? address.port : 0;

  return {
    port,
    blackhole() {
      mode = "blackhole";
    },
    blackholeOn(marker) {
      trap = marker;
    },
    heal(options = {}) {
      mode = "forward";
      for (const pair of pairs) {
        if (options.dropHeld) {
          pair.dead = true;
          pair.held = [];
        } else flush(pair);
      }
    },
    fatal(sqlstate, message) {
      mode = { sqlstate, message };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream?.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

/** PostgreSQL's ErrorResponse message ('E'), as the server sends it before closing. */
function errorResponse(sqlstate: string, message: string): Buffer {
  const fields = Buffer.concat([
    field("S", "FATAL"),
    field("V", "FATAL"),
    field("C", sqlstate),
    field("M", message),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(5);
  header.write("E", 0);
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

function field(type: string, value: string): Buffer {
  return Buffer.concat([Buffer.from(type), Buffer.from(value), Buffer.from([0])]);
}
