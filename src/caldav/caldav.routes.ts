import type { Element } from "@xmldom/xmldom";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { RequestContext } from "../context.ts";
import { AppError } from "../errors.ts";
import { requireContext, requireUser } from "../http/request-context.ts";
import {
  collectionPath,
  collectionProps,
  homePath,
  homeProps,
  pick,
  principalPath,
  principalProps,
  resourcePath,
  resourceProps,
  rootProps,
  type Wanted,
  type Who,
  wantsData,
} from "./caldav.props.ts";
import * as service from "./caldav.service.ts";
import {
  child,
  children,
  type DavResponse,
  davError,
  is,
  multistatus,
  NS,
  parseXml,
  propNames,
  textOf,
} from "./dav-xml.ts";

// The CalDAV door (RFC 4791 for VTODO, RFC 6578 sync) under /dav/: one route per group of
// methods, the path read here. Paths carry the user's id; any other id is 404. Bodies are
// read as text (XML or iCalendar) by this plugin's own parsers; not part of the JSON API.

const READ_METHODS = ["OPTIONS", "PROPFIND", "REPORT", "GET"];
const WRITE_METHODS = ["PUT", "DELETE", "MKCALENDAR", "PROPPATCH", "MOVE", "COPY"];
const DAV_METHODS = ["PROPFIND", "PROPPATCH", "REPORT", "MKCALENDAR", "MOVE", "COPY"];
const ALLOW = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCALENDAR";
const XML = "application/xml; charset=utf-8";

/** Registers the HTTP methods WebDAV needs (Fastify routes only the standard ones). */
export function addDavMethods(app: FastifyInstance): void {
  for (const method of DAV_METHODS) {
    if (!app.supportedMethods.includes(method)) app.addHttpMethod(method, { hasBody: true });
  }
}

export async function caldavRoutes(app: FastifyInstance) {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));
  // Calendar apps ask for credentials only when challenged.
  app.addHook("onSend", async (_request, reply) => {
    if (reply.statusCode === 401) {
      reply.header("www-authenticate", 'Basic realm="Tasktalk", charset="UTF-8"');
    }
  });

  // Discovery (RFC 6764): public, it only points at /dav/.
  app.route({
    method: ["GET", "PROPFIND"],
    url: "/.well-known/caldav",
    config: { auth: "public" },
    schema: { hide: true },
    handler: async (_request, reply) => reply.redirect("/dav/", 301),
  });
  const config = { credentials: "basic", door: "caldav" } as const;
  for (const url of ["/dav", "/dav/*"]) {
    app.route({
      method: READ_METHODS,
      url,
      config,
      schema: { hide: true },
      handler: (request, reply) => handle(request, reply),
    });
    app.route({
      method: WRITE_METHODS,
      url,
      config: { ...config, quota: "task_write" },
      schema: { hide: true },
      handler: (request, reply) => handle(request, reply),
    });
  }
}

/** Where a path points: the root, the principal, the calendar home, a collection, a resource. */
type Target =
  | { kind: "root" }
  | { kind: "principal" }
  | { kind: "home" }
  | { kind: "collection"; key: string }
  | { kind: "resource"; key: string; name: string };

function targetOf(url: string, userId: string): Target | undefined {
  const path = url.split("?")[0] ?? "";
  let parts: string[];
  try {
    parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (parts[0] !== "dav") return undefined;
  const [, area, owner, key, name, ...rest] = parts;
  if (area === undefined) return { kind: "root" };
  if (owner !== userId || rest.length > 0) return undefined;
  if (area === "principals" && key === undefined) return { kind: "principal" };
  if (area !== "calendars") return undefined;
  if (key === undefined) return { kind: "home" };
  if (name === undefined) return { kind: "collection", key };
  return { kind: "resource", key, name };
}

const notFound = () => new AppError("not_found", "No such calendar or task");

async function handle(request: FastifyRequest, reply: FastifyReply) {
  const ctx = requireContext(request);
  const user = requireUser(request);
  const who: Who = { userId: user.id, email: user.email, name: user.name };
  const target = targetOf(request.url, ctx.userId);
  if (!target) throw notFound();
  const body = typeof request.body === "string" ? request.body : "";
  switch (request.method) {
    case "OPTIONS":
      return reply.header("dav", "1, 3, calendar-access").header("allow", ALLOW).send();
    case "PROPFIND":
      return propfind(ctx, who, target, request, reply, body);
    case "REPORT":
      return report(ctx, who, target, reply, body);
    case "GET":
    case "HEAD": {
      const { collection, name } = await resourceTarget(ctx, target);
      const served = await service.getResource(ctx, collection, name);
      if (!served) throw notFound();
      return reply
        .header("etag", served.etag)
        .type("text/calendar; charset=utf-8")
        .send(served.body);
    }
    case "PUT": {
      const { collection, name } = await resourceTarget(ctx, target);
      const { created, etag } = await service.putResource(
        ctx,
        collection,
        name,
        body,
        conditions(request),
      );
      // Only when the client's body is what is stored and served (RFC 4791 §5.3.4).
      if (etag) reply.header("etag", etag);
      return reply.status(created ? 201 : 204).send();
    }
    case "DELETE": {
      const { collection, name } = await resourceTarget(ctx, target);
      await service.deleteResource(ctx, collection, name, conditions(request));
      return reply.status(204).send();
    }
    case "MKCALENDAR":
      return mkcalendar(ctx, target, reply, body);
    case "PROPPATCH":
      return proppatch(ctx, who, target, request, reply, body);
    default:
      throw new AppError("method_not_allowed", `${request.method} is not supported here`);
  }
}

function conditions(request: FastifyRequest): service.Conditions {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(",") : value;
  };
  return { ifMatch: header("if-match"), ifNoneMatch: header("if-none-match") };
}

async function collectionOf(ctx: RequestContext, key: string): Promise<service.Collection> {
  const collection = await service.findCollection(ctx, key);
  if (!collection) throw notFound();
  return collection;
}

async function resourceTarget(ctx: RequestContext, target: Target) {
  if (target.kind !== "resource") {
    throw new AppError("method_not_allowed", "Only a task (.ics) can be read or written here");
  }
  return { collection: await collectionOf(ctx, target.key), name: target.name };
}

/** The <prop> (or allprop) of a PROPFIND body; an empty body is allprop. */
function wantedOf(body: string, rootName: string): Wanted {
  if (body.trim() === "") return { all: true };
  const root = parseXml(body);
  if (!is(root, NS.dav, rootName)) {
    throw new AppError("validation_failed", `XML: expected a DAV: ${rootName} element`);
  }
  const prop = child(root, NS.dav, "prop");
  return prop ? { all: false, names: propNames(prop) } : { all: true };
}

function sendMultistatus(reply: FastifyReply, responses: DavResponse[], token?: string) {
  return reply.status(207).type(XML).send(multistatus(responses, token));
}

async function propfind(
  ctx: RequestContext,
  who: Who,
  target: Target,
  request: FastifyRequest,
  reply: FastifyReply,
  body: string,
) {
  const wanted = wantedOf(body, "propfind");
  const deep = String(request.headers.depth ?? "infinity") !== "0";
  const out: DavResponse[] = [];
  const node = (path: string, props: Map<string, string>) =>
    out.push({ href: path, ...pick(props, wanted) });
  switch (target.kind) {
    case "root":
      node("/dav/", rootProps(who));
      if (deep) node(principalPath(who.userId), principalProps(who));
      break;
    case "principal":
      node(principalPath(who.userId), principalProps(who));
      break;
    case "home": {
      node(homePath(who.userId), homeProps(who));
      if (deep) {
        const token = await service.currentSyncToken(ctx);
        for (const c of await service.listCollections(ctx)) {
          node(collectionPath(who.userId, c), collectionProps(who, c, token));
        }
      }
      break;
    }
    case "collection": {
      const collection = await collectionOf(ctx, target.key);
      const token = await service.currentSyncToken(ctx);
      node(collectionPath(who.userId, collection), collectionProps(who, collection, token));
      if (deep) {
        for (const served of await service.listResources(ctx, collection)) {
          node(
            resourcePath(who.userId, collection, served.name),
            resourceProps(served, wantsData(wanted)),
          );
        }
      }
      break;
    }
    case "resource": {
      const { collection, name } = await resourceTarget(ctx, target);
      const served = await service.getResource(ctx, collection, name);
      if (!served) throw notFound();
      node(resourcePath(who.userId, collection, name), resourceProps(served, wantsData(wanted)));
      break;
    }
  }
  reply.header("dav", "1, 3, calendar-access");
  return sendMultistatus(reply, out);
}

async function report(
  ctx: RequestContext,
  who: Who,
  target: Target,
  reply: FastifyReply,
  body: string,
) {
  const root = parseXml(body);
  if (target.kind !== "collection") {
    return reply
      .status(403)
      .type(XML)
      .send(davError({ ns: NS.dav, name: "supported-report" }));
  }
  const collection = await collectionOf(ctx, target.key);
  const prop = child(root, NS.dav, "prop");
  const wanted: Wanted = prop ? { all: false, names: propNames(prop) } : { all: true };
  const withData = wantsData(wanted);
  const at = (name: string) => resourcePath(who.userId, collection, name);
  if (is(root, NS.caldav, "calendar-query")) {
    const matches = queryFilter(child(root, NS.caldav, "filter"));
    const served = (await service.listResources(ctx, collection)).filter(matches);
    return sendMultistatus(
      reply,
      served.map((s) => ({ href: at(s.name), ...pick(resourceProps(s, withData), wanted) })),
    );
  }
  if (is(root, NS.caldav, "calendar-multiget")) {
    const out: DavResponse[] = [];
    for (const h of children(root).filter((c) => is(c, NS.dav, "href"))) {
      const path = textOf(h);
      const t = targetOf(
        path.startsWith("/") ? path : new URL(path, "http://x").pathname,
        who.userId,
      );
      const served =
        t?.kind === "resource" && t.key === collection.key
          ? await service.getResource(ctx, collection, t.name)
          : undefined;
      if (served)
        out.push({ href: at(served.name), ...pick(resourceProps(served, withData), wanted) });
      else out.push({ href: safeHref(path), status: 404 });
    }
    return sendMultistatus(reply, out);
  }
  if (is(root, NS.dav, "sync-collection")) {
    const token = textOf(child(root, NS.dav, "sync-token"));
    const result = await service.syncCollection(ctx, collection, token || undefined);
    if (result.kind === "invalid") {
      return reply
        .status(403)
        .type(XML)
        .send(davError({ ns: NS.dav, name: "valid-sync-token" }));
    }
    const out: DavResponse[] = result.changed.map((s) => ({
      href: at(s.name),
      ...pick(resourceProps(s, withData), wanted),
    }));
    for (const name of result.removed) out.push({ href: at(name), status: 404 });
    return sendMultistatus(reply, out, result.token);
  }
  return reply
    .status(403)
    .type(XML)
    .send(davError({ ns: NS.dav, name: "supported-report" }));
}

/** A multiget href echoed back as a path (decoded, so href() can encode it once). */
function safeHref(path: string): string {
  try {
    return decodeURIComponent(path.startsWith("/") ? path : new URL(path, "http://x").pathname);
  } catch {
    return "/dav/";
  }
}

/**
 * The subset of calendar-query filters clients send for tasks: VTODO or not, COMPLETED
 * undefined, STATUS (not) COMPLETED, and a time range on the due date. A VTODO without a
 * due date is in every time range (RFC 4791 §9.9).
 */
function queryFilter(filter: Element | undefined): (s: service.Served) => boolean {
  const calendar = filter ? child(filter, NS.caldav, "comp-filter") : undefined;
  if (!calendar) return () => true;
  const comps = children(calendar).filter((c) => is(c, NS.caldav, "comp-filter"));
  if (comps.length === 0) return () => true;
  const todo = comps.find((c) => c.getAttribute("name")?.toUpperCase() === "VTODO");
  if (!todo || child(todo, NS.caldav, "is-not-defined")) return () => false;
  const tests: ((s: service.Served) => boolean)[] = [];
  for (const f of children(todo).filter((c) => is(c, NS.caldav, "prop-filter"))) {
    const name = f.getAttribute("name")?.toUpperCase();
    const undefinedTest = child(f, NS.caldav, "is-not-defined") !== undefined;
    const match = child(f, NS.caldav, "text-match");
    if (name === "COMPLETED" && undefinedTest) tests.push((s) => !s.resource.task.completed);
    if (name === "STATUS" && match && textOf(match).toUpperCase() === "COMPLETED") {
      const negate = match.getAttribute("negate-condition") === "yes";
      tests.push((s) => s.resource.task.completed !== negate);
    }
  }
  const range = child(todo, NS.caldav, "time-range");
  if (range) {
    const start = icalInstant(range.getAttribute("start"));
    const end = icalInstant(range.getAttribute("end"));
    tests.push((s) => {
      const due = s.resource.task.due;
      if (!due) return true;
      const at = due.at ? Date.parse(due.at) : Date.parse(`${due.date}T00:00:00Z`);
      return (start === undefined || at >= start) && (end === undefined || at < end);
    });
  }
  return (s) => tests.every((t) => t(s));
}

function icalInstant(value: string | null): number | undefined {
  const m = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0);
}

async function mkcalendar(ctx: RequestContext, target: Target, reply: FastifyReply, body: string) {
  if (target.kind !== "collection") {
    throw new AppError("method_not_allowed", "A calendar is made inside the calendar home");
  }
  let displayName: string | undefined;
  if (body.trim() !== "") {
    const root = parseXml(body);
    const set = child(root, NS.dav, "set");
    const prop = set ? child(set, NS.dav, "prop") : undefined;
    const name = prop ? child(prop, NS.dav, "displayname") : undefined;
    if (name) displayName = textOf(name);
  }
  await service.makeCalendar(ctx, target.key, displayName);
  return reply.status(201).send();
}

/** Collection properties are not writable (a list is renamed in Tasktalk): each is 403. */
async function proppatch(
  ctx: RequestContext,
  who: Who,
  target: Target,
  request: FastifyRequest,
  reply: FastifyReply,
  body: string,
) {
  const root = parseXml(body);
  if (!is(root, NS.dav, "propertyupdate")) {
    throw new AppError("validation_failed", "XML: expected a DAV: propertyupdate element");
  }
  if (target.kind === "collection") await collectionOf(ctx, target.key);
  const names = children(root).flatMap((op) => propNames(child(op, NS.dav, "prop")));
  const path = request.url.split("?")[0] ?? homePath(who.userId);
  return sendMultistatus(reply, [{ href: safeHref(path), forbidden: names }]);
}
