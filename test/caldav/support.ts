import assert from "node:assert/strict";
import type { LightMyRequestResponse } from "fastify";
import ICAL from "ical.js";
import { signUp, type TestApp, type TestUser } from "../support/app.ts";

/** A user with a personal API key, and the Basic header a calendar app would send. */
export interface DavUser extends TestUser {
  key: string;
  basic: string;
  home: string;
  inbox: string;
}

export async function davUser(t: TestApp, name = "Dav User"): Promise<DavUser> {
  const user = await signUp(t.app, name);
  const res = await t.app.inject({
    method: "POST",
    url: "/api/api-keys",
    headers: user.headers,
    payload: { name: "calendar" },
  });
  assert.equal(res.statusCode, 201, res.body);
  const key = (res.json() as { key: string }).key;
  const basic = `Basic ${Buffer.from(`${user.email}:${key}`).toString("base64")}`;
  const home = `/dav/calendars/${user.id}/`;
  return { ...user, key, basic, home, inbox: `${home}inbox/` };
}

export function dav(
  t: TestApp,
  user: { basic: string } | undefined,
  method: string,
  url: string,
  options: { body?: string; headers?: Record<string, string>; type?: string } = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (user) headers.authorization = user.basic;
  if (options.body !== undefined) headers["content-type"] = options.type ?? "application/xml";
  return t.app.inject({
    method: method as "GET",
    url,
    headers,
    ...(options.body !== undefined ? { payload: options.body } : {}),
  });
}

/** A VCALENDAR with one VTODO: `lines` are the VTODO's properties (and components). */
export function vtodo(uid: string, lines: string[], before: string[] = []): string {
  return [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Test//Client//EN",
    ...before,
    "BEGIN:VTODO",
    `UID:${uid}`,
    "DTSTAMP:20261130T080000Z",
    ...lines,
    "END:VTODO",
    "END:VCALENDAR",
    "",
  ].join("\r\n");
}

/** The VTODO of an iCalendar body. */
export function todoOf(body: string): ICAL.Component {
  const calendar = new ICAL.Component(ICAL.parse(body));
  const todo = calendar.getFirstSubcomponent("vtodo");
  assert.ok(todo, `a VTODO in ${body}`);
  return todo;
}

/** The hrefs and their status or ETag in a multistatus body (a simple read for tests). */
export function responsesOf(
  xml: string,
): { href: string; status: string; etag?: string; data?: string }[] {
  const out: { href: string; status: string; etag?: string; data?: string }[] = [];
  for (const m of xml.matchAll(/<d:response>(.*?)<\/d:response>/gs)) {
    const part = m[1] ?? "";
    const href = decodeURIComponent(/<d:href>(.*?)<\/d:href>/s.exec(part)?.[1] ?? "");
    const status = /<d:status>HTTP\/1.1 (\d+)/.exec(part)?.[1] ?? "";
    const etag = /<d:getetag>(.*?)<\/d:getetag>/s.exec(part)?.[1]?.replaceAll("&quot;", '"');
    const rawData = /<c:calendar-data>(.*?)<\/c:calendar-data>/s.exec(part)?.[1];
    const data = rawData
      ?.replaceAll("&lt;", "<")
      .replaceAll("&gt;", ">")
      .replaceAll("&quot;", '"')
      .replaceAll("&amp;", "&");
    out.push({ href, status, ...(etag ? { etag } : {}), ...(data ? { data } : {}) });
  }
  return out;
}

export const PROPFIND_ALL = `<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>`;
