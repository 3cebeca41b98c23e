import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../support/process.ts";
import { CLIENTS } from "./clients.ts";

export interface Radicale {
  url: string;
  output(): string;
  /** Makes a calendar for VTODOs (Radicale starts with none; Tasktalk has one per list). */
  makeCalendar(user: string, password: string, name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Radicale, the reference CalDAV server, on 127.0.0.1 with its own storage folder and
 * plain-text htpasswd users (`user:password` lines), as Debian ships it.
 */
export async function startRadicale(users: Record<string, string>): Promise<Radicale> {
  const dir = mkdtempSync(join(tmpdir(), "tasktalk-radicale-"));
  const htpasswd = join(dir, "users");
  writeFileSync(
    htpasswd,
    Object.entries(users)
      .map(([user, password]) => `${user}:${password}\n`)
      .join(""),
  );
  const port = await freePort();
  const proc: ChildProcess = spawn(
    CLIENTS.radicale,
    [
      "--config",
      "",
      "--server-hosts",
      `127.0.0.1:${port}`,
      "--auth-type",
      "htpasswd",
      "--auth-htpasswd-filename",
      htpasswd,
      "--auth-htpasswd-encryption",
      "plain",
      "--rights-type",
      "owner_only",
      "--storage-filesystem-folder",
      join(dir, "collections"),
      "--logging-level",
      "warning",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" } },
  );
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`radicale exited (${proc.exitCode}):\n${out}`);
    try {
      await fetch(`${url}/.well-known/caldav`, { redirect: "manual" });
      break;
    } catch {
      if (Date.now() > deadline) {
        proc.kill("SIGKILL");
        throw new Error(`radicale not listening in 20 s:\n${out}`);
      }
      await sleep(100);
    }
  }
  return {
    url,
    output: () => out,
    async makeCalendar(user, password, name) {
      const href = `${url}/${user}/${name}/`;
      const res = await fetch(href, {
        method: "MKCALENDAR",
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
          "content-type": "application/xml",
        },
        body: `<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>${name}</D:displayname><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`,
      });
      if (res.status !== 201)
        throw new Error(`MKCALENDAR ${href}: ${res.status} ${await res.text()}`);
      return href;
    },
    async close() {
      if (proc.exitCode === null) {
        const exited = new Promise((resolve) => proc.once("exit", resolve));
        proc.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
