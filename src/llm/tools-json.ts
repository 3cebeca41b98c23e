import { randomBytes } from "node:crypto";

// The tool definitions are most of a model request's body (the task tools: ~15 of ~18 kB at
// a 10-message window) and the same on every request, yet the provider serializes the whole
// body with JSON.stringify each time (~0.15 ms per request here, on the turn's path to the
// first token). So their JSON text is kept: the provider's `transformRequestBody` puts a
// placeholder where the tools go (placeToolsJson), and the model's fetch (model-fetch.ts)
// puts the kept text in its place (spliceToolsJson). The bytes sent are exactly what
// JSON.stringify of the original body gives (test/llm/tools-json.test.ts). JSON.rawJSON
// would say it directly, but it takes primitives only. docs/decisions.md.

/**
 * The placeholder's prefix: U+0001 (serialized as `\u0001`) and a per-process nonce. The
 * body's text is searched for `"tools":"<placeholder>"` only: a message's content is a JSON
 * string, where every `"` is escaped, so no content can form it.
 */
const MARK = `\u0001tools:${randomBytes(12).toString("base64url")}:`;
const MARK_TEXT = `"tools":${JSON.stringify(MARK).slice(0, -1)}`;

/** One tool's JSON text, by its JSON Schema object, then by the rest of it (its "shell"). */
const byParameters = new WeakMap<object, Map<string, { id: number; text: string }>>();
/** Kept per schema object: a tool whose description changes on every request is not kept. */
const SHELLS_MAX = 16;
/** A tool set's JSON text (`[…]`) by its tools' ids; two generations, so an entry lives at least SETS_MAX insertions. */
const sets = { current: new Map<string, string>(), previous: new Map<string, string>() };
const SETS_MAX = 128;
const ids = { next: 1 };

/**
 * The body with `tools` replaced by a placeholder for their kept JSON text, or the body as
 * it is when its tools are not the usual array of objects with a JSON Schema object each.
 */
export function placeToolsJson(args: Record<string, unknown>): Record<string, unknown> {
  const tools = args.tools;
  if (!Array.isArray(tools) || tools.length === 0) return args;
  const key: number[] = [];
  const texts: string[] = [];
  for (const tool of tools) {
    const parameters = (tool as { function?: { parameters?: unknown } } | null)?.function
      ?.parameters;
    if (typeof parameters !== "object" || parameters === null) return args;
    // Everything but the schema (name, description, strict…): small, serialized each time.
    const shell = JSON.stringify({
      ...tool,
      function: { ...(tool as { function: object }).function, parameters: null },
    });
    let shells = byParameters.get(parameters);
    if (!shells) {
      shells = new Map();
      byParameters.set(parameters, shells);
    }
    let kept = shells.get(shell);
    if (!kept) {
      kept = { id: ids.next++, text: JSON.stringify(tool) };
      if (shells.size < SHELLS_MAX) shells.set(shell, kept);
    }
    key.push(kept.id);
    texts.push(kept.text);
  }
  const id = key.join(",");
  if (!sets.current.has(id) && !sets.previous.has(id)) {
    if (sets.current.size >= SETS_MAX) {
      sets.previous = sets.current;
      sets.current = new Map();
    }
    sets.current.set(id, `[${texts.join(",")}]`);
  }
  return { ...args, tools: `${MARK}${id}` };
}

/** The body text with a placeholder of placeToolsJson replaced by its tools' JSON text. */
export function spliceToolsJson(body: string): string {
  const at = body.lastIndexOf(MARK_TEXT);
  if (at < 0) return body;
  const from = at + MARK_TEXT.length;
  const end = body.indexOf('"', from);
  const id = end < 0 ? undefined : body.slice(from, end);
  const text = id === undefined ? undefined : (sets.current.get(id) ?? sets.previous.get(id));
  if (text === undefined) {
    // Not reachable: an entry outlives SETS_MAX newer tool sets, and a request is sent
    // microseconds after its placeholder is made. Never send a placeholder to a model.
    throw new Error("a model request's tool definitions were not found");
  }
  return `${body.slice(0, at)}"tools":${text}${body.slice(end + 1)}`;
}
