import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";

/**
 * Where a webhook may point. A URL given by a user is fetched by the server, so without a
 * rule it reaches what only the server can reach (its own loopback, the cloud metadata
 * address, the private network). Refused unless the operator allows private addresses
 * (WEBHOOKS_ALLOW_PRIVATE): loopback, private, link-local, unique-local, carrier-grade
 * NAT, multicast, unspecified and reserved ranges. The check is made on every address
 * the name resolves to, when the webhook is saved AND before each delivery (a name can be
 * re-pointed after it was checked).
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** Shape only: http(s), no credentials, at most 2000 characters. */
export function checkUrlShape(raw: string): UrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not a URL" };
  }
  if (raw.length > 2000) return { ok: false, reason: "must be at most 2000 characters" };
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, reason: "must be an http:// or https:// URL" };
  if (url.username || url.password)
    return { ok: false, reason: "must not carry a user name or password" };
  return { ok: true, url };
}

/** Shape, and every address the host resolves to (unless private addresses are allowed). */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean): Promise<UrlCheck> {
  const shape = checkUrlShape(raw);
  if (!shape.ok || allowPrivate) return shape;
  const host = shape.url.hostname.replace(/^\[|\]$/g, "");
  let addresses: { address: string; family: number }[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await lookup(host, { all: true });
    } catch {
      return { ok: false, reason: `host ${host} does not resolve` };
    }
  }
  for (const { address, family } of addresses) {
    if (blocked.check(address, family === 6 ? "ipv6" : "ipv4")) {
      return {
        ok: false,
        reason: `points at a loopback or private address (${address}); the operator can allow those with WEBHOOKS_ALLOW_PRIVATE=true`,
      };
    }
  }
  return shape;
}
