import type { FastifyRequest } from "fastify";
import type { Config } from "../config.ts";
import { AppError } from "../errors.ts";

/**
 * DNS-rebinding and cross-site defence for the MCP endpoint (MCP Streamable HTTP, security
 * warning): a page on evil.example that resolves its name to 127.0.0.1 reaches this server
 * with `Host: evil.example` and `Origin: http://evil.example`; both are refused.
 *
 * Host: allowed when it is exactly the host of BETTER_AUTH_URL or of a TRUSTED_ORIGINS entry
 * (a reverse proxy in front), or when it names this server — HOST, or a loopback name when
 * HOST is loopback or a wildcard — with the port the connection actually arrived on.
 * Origin: absent (a non-browser client) is fine; present, it must be a trusted origin or the
 * origin of the (already validated) Host itself.
 */
export interface HostPolicy {
  /** `host[:port]` values accepted as they are (URL.host form). */
  readonly exactHosts: ReadonlySet<string>;
  /** Hostnames accepted with the connection's local port. */
  readonly localNames: ReadonlySet<string>;
  readonly origins: ReadonlySet<string>;
}

const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];
/** A bare `name[:port]` or `[v6]:port`: no user info, path or anything else a URL could carry. */
const HOST_HEADER = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);

export function hostPolicy(config: Pick<Config, "host" | "auth">): HostPolicy {
  const origins = new Set<string>();
  const exactHosts = new Set<string>();
  for (const origin of [config.auth.baseURL, ...config.auth.trustedOrigins]) {
    const url = parseUrl(origin);
    if (!url) continue;
    origins.add(url.origin);
    exactHosts.add(url.host);
  }
  const configured = hostnameOf(config.host);
  const localNames = new Set<string>();
  if (configured && !WILDCARD.has(configured)) localNames.add(configured);
  if (!configured || WILDCARD.has(configured) || LOOPBACK.includes(configured)) {
    for (const name of LOOPBACK) localNames.add(name);
  }
  return { exactHosts, localNames, origins };
}

/** Throws 403 when the Host or Origin header is not this server's. */
export function checkHostAndOrigin(policy: HostPolicy, request: FastifyRequest): void {
  const hostHeader = request.headers.host;
  const host =
    hostHeader && HOST_HEADER.test(hostHeader) ? parseUrl(`http://${hostHeader}`) : undefined;
  if (!host || !hostAllowed(policy, host, request.socket.localPort)) {
    throw new AppError("forbidden", "The Host header does not name this server");
  }
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const url = parseUrl(origin);
  const sameOrigin = url?.host === host.host && url.protocol === `${request.protocol}:`;
  if (!url || !(sameOrigin || policy.origins.has(url.origin))) {
    throw new AppError("forbidden", "Requests from this Origin are not allowed");
  }
}

function hostAllowed(policy: HostPolicy, host: URL, localPort: number | undefined): boolean {
  if (policy.exactHosts.has(host.host)) return true;
  const port = host.port === "" ? 80 : Number(host.port);
  // No local port: not a network socket but Fastify's inject() (tests), which has no port.
  return policy.localNames.has(host.hostname) && (localPort === undefined || port === localPort);
}

function hostnameOf(host: string): string | undefined {
  const bracketed = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return parseUrl(`http://${bracketed}`)?.hostname;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
