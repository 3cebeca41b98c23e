import { DOMParser, type Element } from "@xmldom/xmldom";
import { AppError } from "../errors.ts";

// WebDAV XML (RFC 4918) read with a namespace-aware parser and written as text: each
// property is a qualified name {namespace, local name}; prefixes are the writer's choice.

export const NS = {
  dav: "DAV:",
  caldav: "urn:ietf:params:xml:ns:caldav",
  cs: "http://calendarserver.org/ns/",
  apple: "http://apple.com/ns/ical/",
} as const;

const PREFIX: Record<string, string> = {
  [NS.dav]: "d",
  [NS.caldav]: "c",
  [NS.cs]: "cs",
  [NS.apple]: "ic",
};

/** A property's qualified name. */
export interface QName {
  ns: string;
  name: string;
}

export const keyOf = (q: QName) => `${q.ns}|${q.name}`;

/** Parses a request body; malformed XML is a 400, never a crash. */
export function parseXml(text: string): Element {
  let failure: string | undefined;
  let root: Element | null = null;
  try {
    const doc = new DOMParser({
      onError: (level, message) => {
        if (level !== "warning") failure ??= message;
      },
    }).parseFromString(text, "application/xml");
    root = doc.documentElement;
  } catch (error) {
    // A fatal error (unclosed elements, garbage) stops the parser with an exception.
    failure ??= error instanceof Error ? error.message : "not well-formed";
  }
  if (failure !== undefined || !root) {
    throw new AppError("validation_failed", `XML: ${failure ?? "no root element"}`);
  }
  return root;
}

export function qnameOf(element: Element): QName {
  return { ns: element.namespaceURI ?? "", name: element.localName ?? element.nodeName };
}

export function is(element: Element, ns: string, name: string): boolean {
  return element.namespaceURI === ns && element.localName === name;
}

/** The element children of a node (text and comments skipped). */
export function children(element: Element): Element[] {
  const out: Element[] = [];
  for (let node = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1) out.push(node as Element);
  }
  return out;
}

export function child(element: Element, ns: string, name: string): Element | undefined {
  return children(element).find((c) => is(c, ns, name));
}

export function textOf(element: Element | undefined): string {
  return element?.textContent?.trim() ?? "";
}

/** The properties asked for in a <prop> element. */
export function propNames(prop: Element | undefined): QName[] {
  return prop ? children(prop).map(qnameOf) : [];
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** `<p:name>inner</p:name>` with a declared prefix, or an inline xmlns for other namespaces. */
export function element(q: QName, inner = ""): string {
  const prefix = PREFIX[q.ns];
  const open = prefix ? `${prefix}:${q.name}` : `x:${q.name} xmlns:x="${escapeXml(q.ns)}"`;
  const close = prefix ? `${prefix}:${q.name}` : `x:${q.name}`;
  return inner === "" ? `<${open}/>` : `<${open}>${inner}</${close}>`;
}

export const dav = (name: string, inner = "") => element({ ns: NS.dav, name }, inner);
/** A path as an href: each segment percent-encoded (names may hold any character). */
export const href = (path: string) =>
  dav("href", escapeXml(path.split("/").map(encodeURIComponent).join("/")));

/** One <response>: the values found (200) and the names not found (404), or a bare status. */
export type DavResponse =
  | { href: string; found?: string[]; missing?: QName[]; forbidden?: QName[] }
  | { href: string; status: number };

const REASON: Record<number, string> = {
  200: "OK",
  403: "Forbidden",
  404: "Not Found",
};

const statusLine = (code: number) => dav("status", `HTTP/1.1 ${code} ${REASON[code] ?? ""}`);

export function multistatus(responses: readonly DavResponse[], syncToken?: string): string {
  const body = responses.map((r) => {
    if ("status" in r) return dav("response", href(r.href) + statusLine(r.status));
    const stats: string[] = [];
    if (r.found && r.found.length > 0)
      stats.push(dav("propstat", dav("prop", r.found.join("")) + statusLine(200)));
    for (const [names, code] of [
      [r.missing, 404],
      [r.forbidden, 403],
    ] as const) {
      if (names && names.length > 0) {
        const inner = names.map((q) => element(q)).join("");
        stats.push(dav("propstat", dav("prop", inner) + statusLine(code)));
      }
    }
    if (stats.length === 0) stats.push(dav("propstat", dav("prop") + statusLine(200)));
    return dav("response", href(r.href) + stats.join(""));
  });
  const token = syncToken === undefined ? "" : dav("sync-token", escapeXml(syncToken));
  return `<?xml version="1.0" encoding="utf-8"?>\n<d:multistatus ${NAMESPACES}>${body.join("")}${token}</d:multistatus>`;
}

const NAMESPACES = Object.entries(PREFIX)
  .map(([ns, prefix]) => `xmlns:${prefix}="${ns}"`)
  .join(" ");

/** A WebDAV error body naming the precondition that failed (RFC 4918 §16). */
export function davError(condition: QName): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<d:error ${NAMESPACES}>${element(condition)}</d:error>`;
}
