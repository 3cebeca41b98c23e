import type { Collection, Served } from "./caldav.service.ts";
import { dav, element, escapeXml, href, keyOf, NS, type QName } from "./dav-xml.ts";

// The WebDAV/CalDAV properties of each kind of node, as XML elements keyed by qualified
// name. `calendar-data` is given only when asked for by name (never by allprop).

export const DAV_ROOT = "/dav/";
export const principalPath = (userId: string) => `/dav/principals/${userId}/`;
export const homePath = (userId: string) => `/dav/calendars/${userId}/`;
export const collectionPath = (userId: string, c: Collection) => `${homePath(userId)}${c.key}/`;
export const resourcePath = (userId: string, c: Collection, name: string) =>
  `${collectionPath(userId, c)}${name}`;

export type Props = Map<string, string>;

const q = (ns: string, name: string): QName => ({ ns, name });
const put = (props: Props, name: QName, inner = "") => props.set(keyOf(name), element(name, inner));

export interface Who {
  userId: string;
  email: string;
  name: string;
}

function common(props: Props, who: Who) {
  put(props, q(NS.dav, "current-user-principal"), href(principalPath(who.userId)));
  put(props, q(NS.dav, "owner"), href(principalPath(who.userId)));
  put(props, q(NS.dav, "principal-URL"), href(principalPath(who.userId)));
  const privileges = ["read", "write", "write-properties", "write-content", "bind", "unbind"]
    .map((p) => dav("privilege", dav(p)))
    .join("");
  const readAcl = dav("privilege", dav("read-current-user-privilege-set"));
  put(props, q(NS.dav, "current-user-privilege-set"), privileges + readAcl);
}

export function rootProps(who: Who): Props {
  const props: Props = new Map();
  common(props, who);
  put(props, q(NS.dav, "resourcetype"), dav("collection"));
  put(props, q(NS.dav, "displayname"), "Tasktalk");
  return props;
}

export function principalProps(who: Who): Props {
  const props = rootProps(who);
  put(props, q(NS.dav, "resourcetype"), dav("collection") + dav("principal"));
  put(props, q(NS.dav, "displayname"), escapeXml(who.name));
  put(props, q(NS.caldav, "calendar-home-set"), href(homePath(who.userId)));
  put(
    props,
    q(NS.caldav, "calendar-user-address-set"),
    dav("href", escapeXml(`mailto:${who.email}`)),
  );
  return props;
}

export function homeProps(who: Who): Props {
  const props = rootProps(who);
  put(props, q(NS.dav, "displayname"), "Calendars");
  put(props, q(NS.caldav, "calendar-home-set"), href(homePath(who.userId)));
  return props;
}

const REPORTS = [
  q(NS.caldav, "calendar-query"),
  q(NS.caldav, "calendar-multiget"),
  q(NS.dav, "sync-collection"),
];

export function collectionProps(who: Who, collection: Collection, syncToken: string): Props {
  const props: Props = new Map();
  common(props, who);
  put(props, q(NS.dav, "resourcetype"), dav("collection") + element(q(NS.caldav, "calendar")));
  put(props, q(NS.dav, "displayname"), escapeXml(collection.displayName));
  put(props, q(NS.caldav, "supported-calendar-component-set"), `<c:comp name="VTODO"/>`);
  put(
    props,
    q(NS.caldav, "supported-calendar-data"),
    `<c:calendar-data content-type="text/calendar" version="2.0"/>`,
  );
  put(props, q(NS.cs, "getctag"), escapeXml(syncToken));
  put(props, q(NS.dav, "sync-token"), escapeXml(syncToken));
  put(
    props,
    q(NS.dav, "supported-report-set"),
    REPORTS.map((r) => dav("supported-report", dav("report", element(r)))).join(""),
  );
  return props;
}

export function resourceProps(served: Served, withData: boolean): Props {
  const props: Props = new Map();
  put(props, q(NS.dav, "getetag"), escapeXml(served.etag));
  put(props, q(NS.dav, "getcontenttype"), "text/calendar; charset=utf-8; component=VTODO");
  put(props, q(NS.dav, "resourcetype"));
  put(props, q(NS.dav, "getcontentlength"), String(Buffer.byteLength(served.body)));
  put(props, q(NS.dav, "getlastmodified"), served.resource.task.updatedAt.toUTCString());
  if (withData) put(props, q(NS.caldav, "calendar-data"), escapeXml(served.body));
  return props;
}

export const CALENDAR_DATA = keyOf(q(NS.caldav, "calendar-data"));

/** What a PROPFIND or REPORT asked for: named properties, or all of them. */
export type Wanted = { all: true } | { all: false; names: QName[] };

/** The found/missing split of one node's properties for a request. */
export function pick(props: Props, wanted: Wanted): { found: string[]; missing: QName[] } {
  if (wanted.all) {
    return {
      found: [...props].filter(([k]) => k !== CALENDAR_DATA).map(([, v]) => v),
      missing: [],
    };
  }
  const found: string[] = [];
  const missing: QName[] = [];
  for (const name of wanted.names) {
    const value = props.get(keyOf(name));
    if (value === undefined) missing.push(name);
    else found.push(value);
  }
  return { found, missing };
}

/** Whether the request names calendar-data (so resources render their body). */
export const wantsData = (wanted: Wanted) =>
  !wanted.all && wanted.names.some((n) => keyOf(n) === CALENDAR_DATA);
