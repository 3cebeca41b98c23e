import http from "node:http";
import https from "node:https";
import { spliceToolsJson } from "./tools-json.ts";

// The model's HTTP client. The AI SDK's providers take a `fetch`; Node's own (undici's
// WHATWG fetch) runs the spec's steps for every request, a cost on every turn's critical
// path: to the first streamed chunk from a model on loopback, 0.37–0.67 ms with fetch and
// 0.28–0.47 ms with node:http wrapped as a Response (`node bench/fetch-cost.ts`, two runs). This is
// fetch's contract for what the providers send — a string or bytes body to an http(s)
// URL, read as a stream — on node:http with keep-alive; anything else (another body type,
// manual redirects, a proxy from the environment) goes to the global fetch. Not followed
// here: redirects (a model endpoint that redirects fails as an HTTP error) and content
// encodings (none is asked for, so the server sends none). docs/decisions.md.

// An idle socket is closed a second before the server's announced keep-alive timeout
// (`Keep-Alive: timeout=5`, Node's and many servers' default), so it is not reused just as
// the server closes it. Node's agent follows that hint only when it has a timeout of its
// own: a socket idle for a minute is closed in any case.
const agents = {
  "http:": new http.Agent({ keepAlive: true, timeout: 60_000 }),
  "https:": new https.Agent({ keepAlive: true, timeout: 60_000 }),
};

/** Statuses whose response has no body (a Response built with one would throw). */
const NULL_BODY = new Set([101, 204, 205, 304]);

export const modelFetch: typeof fetch = (input, init) => {
  const url =
    typeof input === "string" ? URL.parse(input) : input instanceof URL ? input : undefined;
  // The provider's body, with the tools' kept JSON text in place (tools-json.ts).
  const body = typeof init?.body === "string" ? spliceToolsJson(init.body) : init?.body;
  if (body !== init?.body) init = { ...init, body };
  if (
    !url ||
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    (body != null && typeof body !== "string" && !(body instanceof Uint8Array)) ||
    init?.redirect === "manual" ||
    process.env.HTTPS_PROXY ||
    process.env.HTTP_PROXY
  ) {
    return fetch(input, init);
  }
  const signal = init?.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const headers: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, name) => {
    headers[name] = value;
  });
  if (body != null) headers["content-length"] = String(Buffer.byteLength(body));
  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    let fail: (reason: unknown) => void = (reason) => {
      settled = true;
      reject(reason);
    };
    let request: http.ClientRequest;
    const onAbort = () => {
      request.destroy();
      fail(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const send = (again: boolean) => {
      request = (url.protocol === "https:" ? https : http).request(
        url,
        {
          method: init?.method ?? "GET",
          headers,
          // The second try gets a connection of its own: at the server's idle timeout it
          // closes every idle socket at once, so the pool may hand out another stale one.
          agent: again ? false : agents[url.protocol as "http:" | "https:"],
        },
        (res) => {
          settled = true;
          const status = res.statusCode ?? 0;
          const responseHeaders = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            responseHeaders.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
          }
          const finished = () => signal?.removeEventListener("abort", onAbort);
          let stream: ReadableStream<Uint8Array> | null = null;
          if (NULL_BODY.has(status)) {
            res.resume();
            res.once("end", finished);
          } else {
            stream = new ReadableStream<Uint8Array>({
              start(controller) {
                fail = (reason) => {
                  try {
                    controller.error(reason);
                  } catch {}
                };
                res.on("data", (chunk: Buffer) => {
                  controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
                  if ((controller.desiredSize ?? 1) <= 0) res.pause();
                });
                res.once("end", () => {
                  finished();
                  try {
                    controller.close();
                  } catch {}
                });
                res.once("error", (error) => {
                  finished();
                  fail(new TypeError("terminated", { cause: error }));
                });
                res.once("aborted", () => fail(new TypeError("terminated")));
              },
              pull() {
                res.resume();
              },
              cancel() {
                finished();
                res.destroy();
              },
            });
          }
          resolve(
            new Response(stream, {
              status,
              statusText: res.statusMessage ?? "",
              headers: responseHeaders,
            }),
          );
        },
      );
      request.once("error", (error) => {
        // A kept-alive socket the server closed (idle) just as it was reused: no response
        // came, the server most likely never read the request, so it is sent once more, on
        // a new connection (Node's advice for request.reusedSocket). Any other failure is
        // the caller's.
        if (!settled && !again && request.reusedSocket && isReset(error) && !signal?.aborted) {
          send(true);
          return;
        }
        if (!settled) {
          signal?.removeEventListener("abort", onAbort);
          // As fetch reports it: the AI SDK reads "fetch failed" with a cause as a network
          // error it may retry.
          fail(new TypeError("fetch failed", { cause: error }));
        }
      });
      request.end(body ?? undefined);
    };
    send(false);
  });
};

/** The connection was reset or closed before any response: "socket hang up", ECONNRESET. */
function isReset(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ECONNRESET";
}
