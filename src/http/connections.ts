import { randomUUID } from "node:crypto";
import { type Server, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { ErrorCode } from "../errors.ts";
import { AppError } from "../errors.ts";
import { problemBody } from "./problem.ts";

/**
 * Caps the connections one client address holds open at once. Request timeouts bound how
 * long each connection lives; this bounds how many one client can pile up (slowloris from
 * one address). Counted on 'connection': an excess socket is closed before a byte is
 * read. Behind a reverse proxy every client shares its address: raise the cap or use 0.
 */
export function limitConnectionsPerAddress(server: Server, max: number): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "unknown";
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (a request that did not
 * arrive within the request timeout, headers over the size limit, unparsable bytes),
 * answered as problem+json like every other error instead of Fastify's ad-hoc JSON.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const code: ErrorCode =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? "request_timeout"
      : error.code === "HPE_HEADER_OVERFLOW"
        ? "headers_too_large"
        : "validation_failed";
  const detail = code === "validation_failed" ? "The request is not valid HTTP/1.1" : undefined;
  const problem = new AppError(code, detail);
  const body = JSON.stringify(problemBody(randomUUID(), problem));
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nConnection: close\r\n` +
      `Content-Type: application/problem+json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  // end() flushes the answer first; a peer that never reads must not keep the socket.
  setTimeout(() => socket.destroy(), 1000).unref();
}
