import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * CalDAV clients this project did not write, as Debian ships them: vdirsyncer (sync to a
 * folder of .ics files), todoman (edits that folder) and python3-caldav (a library). Absolute
 * paths: a python3 from pyenv or a venv earlier on PATH has no `caldav` module.
 */
export const CLIENTS = {
  vdirsyncer: "/usr/bin/vdirsyncer",
  todoman: "/usr/bin/todoman",
  python: "/usr/bin/python3",
  radicale: "/usr/bin/radicale",
} as const;

export const CALDAV_SCRIPT = join(import.meta.dirname, "caldav_client.py");

/** Every missing client, with the Debian package that brings it. */
export async function missingClients(): Promise<string[]> {
  const missing: string[] = [];
  if (!existsSync(CLIENTS.vdirsyncer)) missing.push("vdirsyncer");
  if (!existsSync(CLIENTS.todoman)) missing.push("todoman");
  if (!existsSync(CLIENTS.radicale)) missing.push("radicale");
  const probe = existsSync(CLIENTS.python)
    ? await run(CLIENTS.python, ["-c", "import caldav"], { timeoutMs: 20_000 })
    : undefined;
  if (probe?.code !== 0) missing.push("python3-caldav");
  return missing;
}

/** Fails loudly: these tests prove the server against real clients, never skip in CI. */
export async function requireClients(): Promise<void> {
  const missing = await missingClients();
  if (missing.length > 0) {
    throw new Error(
      `CalDAV client tests need Debian packages: apt-get install -y ${missing.join(" ")} (.ci/run installs them)`,
    );
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command and both outputs, for an assertion message. */
  transcript: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

/**
 * Runs a client with a deadline (SIGKILL after it), asynchronously: the Tasktalk server under
 * test runs in this process, so a blocking spawnSync would stop it from answering.
 */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: {
        PATH: "/usr/local/bin:/usr/bin:/bin",
        LANG: "C.UTF-8",
        LC_ALL: "C.UTF-8",
        TZ: "UTC",
        ...options.env,
      },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
    child.on("close", (code) => {
      clearTimeout(timer);
      const head = `$ ${command} ${args.join(" ")}${timedOut ? ` (KILLED after ${timeoutMs} ms)` : ""} → exit ${code}`;
      resolve({
        code,
        stdout,
        stderr,
        transcript: `${head}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
      });
    });
  });
}

/** Asserts exit 0, with the whole transcript in the message otherwise. */
export function ok(result: RunResult): RunResult {
  if (result.code !== 0) throw new Error(`client failed:\n${result.transcript}`);
  return result;
}

export interface Account {
  /** The CalDAV root the user types into a client. */
  url: string;
  username: string;
  password: string;
}

/**
 * One user's client side: a vdirsyncer pair (CalDAV ↔ a folder of .ics files) and todoman on
 * that folder, all in a temporary directory with its own HOME.
 */
export class ClientSide {
  readonly account: Account;
  readonly dir: string;
  readonly local: string;

  constructor(account: Account, label: string) {
    this.account = account;
    this.dir = mkdtempSync(join(tmpdir(), `tasktalk-dav-${label}-`));
    this.local = join(this.dir, "calendars");
    mkdirSync(join(this.dir, "home"));
    this.writeConfig(null);
    writeFileSync(
      join(this.dir, "todoman.py"),
      [
        `path = "${this.local}/*"`,
        'date_format = "%Y-%m-%d"',
        'time_format = "%H:%M"',
        `cache_path = "${join(this.dir, "todoman-cache.sqlite3")}"`,
        "",
      ].join("\n"),
    );
  }

  /** vdirsyncer's config; `conflict` is its conflict_resolution (null: stop and report). */
  writeConfig(conflict: "a wins" | "b wins" | null): void {
    writeFileSync(
      join(this.dir, "vdirsyncer.conf"),
      [
        "[general]",
        `status_path = "${join(this.dir, "status")}/"`,
        "",
        "[pair tasks]",
        'a = "tasks_local"',
        'b = "tasks_remote"',
        'collections = ["from b"]',
        // The list's name for todoman (it reads a folder's `displayname` file).
        'metadata = ["displayname"]',
        ...(conflict ? [`conflict_resolution = "${conflict}"`] : []),
        "",
        "[storage tasks_local]",
        'type = "filesystem"',
        `path = "${this.local}/"`,
        'fileext = ".ics"',
        "",
        "[storage tasks_remote]",
        'type = "caldav"',
        `url = "${this.account.url}"`,
        `username = "${this.account.username}"`,
        `password = "${this.account.password}"`,
        'item_types = ["VTODO"]',
        "",
      ].join("\n"),
    );
  }

  /**
   * A second pair in the same config: a read-only feed (vdirsyncer's `http` storage, as
   * for any webcal URL) into the folder `feed/`.
   */
  addFeed(feedUrl: string): void {
    const config = join(this.dir, "vdirsyncer.conf");
    writeFileSync(
      config,
      [
        readFileSync(config, "utf8"),
        "[pair feed]",
        'a = "feed_local"',
        'b = "feed_remote"',
        "collections = null",
        "",
        "[storage feed_local]",
        'type = "filesystem"',
        `path = "${join(this.dir, "feed")}/"`,
        'fileext = ".ics"',
        "",
        "[storage feed_remote]",
        'type = "http"',
        `url = "${feedUrl}"`,
        "",
      ].join("\n"),
    );
    mkdirSync(join(this.dir, "feed"), { recursive: true });
  }

  /** The .ics files the feed pair wrote. */
  feedFiles(): string[] {
    const dir = join(this.dir, "feed");
    return readdirSync(dir)
      .filter((name) => name.endsWith(".ics"))
      .map((name) => readFileSync(join(dir, name), "utf8"));
  }

  private env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      HOME: join(this.dir, "home"),
      VDIRSYNCER_CONFIG: join(this.dir, "vdirsyncer.conf"),
      ...extra,
    };
  }

  /** `vdirsyncer discover`, answering "y" to "create the local folder?". */
  discover(): Promise<RunResult> {
    return run(CLIENTS.vdirsyncer, ["discover"], { env: this.env(), input: "y\n".repeat(20) });
  }

  metasync(): Promise<RunResult> {
    return run(CLIENTS.vdirsyncer, ["metasync"], { env: this.env() });
  }

  /** `vdirsyncer sync`, of every pair or of the ones named. */
  sync(pairs: string[] = []): Promise<RunResult> {
    return run(CLIENTS.vdirsyncer, ["sync", ...pairs], { env: this.env() });
  }

  todoman(args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
    return run(CLIENTS.todoman, ["-c", join(this.dir, "todoman.py"), ...args], {
      env: this.env(extraEnv),
    });
  }

  /** `todoman --porcelain list` (pending, or with `-s ANY` everything) parsed. */
  async list(args: string[] = []): Promise<{ todos: TodomanTodo[]; result: RunResult }> {
    const result = ok(await this.todoman(["--porcelain", "list", ...args]));
    return { todos: JSON.parse(result.stdout) as TodomanTodo[], result };
  }

  /** Every local .ics file of every collection, by collection name. */
  files(): { collection: string; name: string; text: string }[] {
    if (!existsSync(this.local)) return [];
    return readdirSync(this.local).flatMap((collection) =>
      readdirSync(join(this.local, collection))
        .filter((name) => name.endsWith(".ics"))
        .map((name) => ({
          collection,
          name,
          text: readFileSync(join(this.local, collection, name), "utf8"),
        })),
    );
  }

  /** The local collections vdirsyncer made (one folder per calendar). */
  collections(): string[] {
    return existsSync(this.local) ? readdirSync(this.local) : [];
  }
}

export interface TodomanTodo {
  id: number;
  summary: string;
  list: string;
  completed: boolean;
  completed_at: number | null;
  due: number | null;
  priority: number;
  description: string;
}

/** A property's value from iCalendar text (first occurrence, unfolded, parameters dropped). */
export function icalValue(text: string, name: string): string | undefined {
  const unfolded = text.replace(/\r?\n[ \t]/g, "");
  const line = unfolded
    .split(/\r?\n/)
    .find(
      (l) =>
        l.toUpperCase().startsWith(`${name.toUpperCase()}:`) ||
        l.toUpperCase().startsWith(`${name.toUpperCase()};`),
    );
  return line === undefined ? undefined : line.slice(line.indexOf(":") + 1);
}

/** Runs the python3-caldav script; it prints one JSON object. */
export async function runCaldavScript(
  account: Account,
  scenario: string,
  extra: string[] = [],
): Promise<{ out: Record<string, unknown>; result: RunResult }> {
  const result = await run(
    CLIENTS.python,
    [CALDAV_SCRIPT, scenario, account.url, account.username, account.password, ...extra],
    { timeoutMs: 90_000 },
  );
  ok(result);
  const last = result.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return { out: JSON.parse(last) as Record<string, unknown>, result };
  } catch {
    throw new Error(`the caldav script printed no JSON:\n${result.transcript}`);
  }
}

export interface Proxy {
  url: string;
  /** Every request that went through: method, path and the status the server answered. */
  seen: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy between a client and the server; `before` runs before a request is
 * forwarded. It makes a race deterministic: a write from elsewhere lands between vdirsyncer
 * listing the items and its PUT.
 */
export async function startProxy(
  target: string,
  before: (req: IncomingMessage) => Promise<void>,
): Promise<Proxy> {
  const targetUrl = new URL(target);
  const seen: Proxy["seen"] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      before(req).then(
        () => {
          const upstream = httpRequest(
            {
              host: targetUrl.hostname,
              port: targetUrl.port,
              method: req.method,
              path: req.url,
              headers: { ...req.headers, host: targetUrl.host },
            },
            (answer) => {
              seen.push({
                method: req.method ?? "",
                path: req.url ?? "",
                status: answer.statusCode ?? 0,
              });
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              answer.pipe(res);
            },
          );
          upstream.on("error", () => res.writeHead(502).end());
          upstream.end(Buffer.concat(chunks));
        },
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
