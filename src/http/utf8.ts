import type { FastifyInstance } from "fastify";
import { AppError } from "../errors.ts";

/**
 * Text that is not well-formed Unicode is refused (400), never repaired. Node's default
 * decoding turns invalid UTF-8 and lone surrogates into U+FFFD: the stored text is then not
 * what was sent, and an idempotent retry of the very same bytes compares unequal to what
 * was stored (422). JSON must be UTF-8 (RFC 8259); a `\uD800` escape decodes to a lone
 * surrogate that no encoder can write back out.
 */
const strict = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text, or undefined when they are not valid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strict.decode(bytes);
  } catch {
    return undefined;
  }
}

/** True when every string (and key) in a parsed JSON value is well-formed. Iterative: a
 * deeply nested body must not overflow the stack. */
export function isWellFormedDeep(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (typeof v === "string") {
      if (!v.isWellFormed()) return false;
    } else if (Array.isArray(v)) {
      for (const item of v) pending.push(item);
    } else if (v !== null && typeof v === "object") {
      for (const [key, item] of Object.entries(v)) {
        if (!key.isWellFormed()) return false;
        pending.push(item);
      }
    }
  }
  return true;
}

/**
 * True when the request target's percent-decoded bytes are valid UTF-8: path parameters
 * and query strings are checked once, here, for every route. Node hands the target over
 * as latin1 (one char per byte); a char above 0xFF (only via inject) counts as its UTF-8.
 */
export function urlIsWellFormed(url: string): boolean {
  if (/^[\x20-\x7e]*$/.test(url) && !/%[89a-fA-F]/.test(url)) return true; // plain ASCII
  if (!url.isWellFormed()) return false;
  const bytes: number[] = [];
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    const hex = c === 0x25 ? url.slice(i + 1, i + 3) : "";
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c <= 0xff) {
      bytes.push(c);
    } else {
      const char = String.fromCodePoint(url.codePointAt(i) ?? c);
      bytes.push(...Buffer.from(char, "utf8"));
      i += char.length - 1;
    }
  }
  return decodeUtf8(Uint8Array.from(bytes)) !== undefined;
}

export const NOT_UTF8 = "The request holds text that is not valid UTF-8";
export const LONE_SURROGATE =
  "The body holds a lone surrogate (an unpaired \\uD800-\\uDFFF escape)";

/**
 * The app's JSON and text parsers, strict about encoding, and the check of every request
 * target. Registered at the root, so every route inherits them; /api/auth/* keeps its
 * raw-bytes parser and checks the bytes with the same functions.
 */
export function registerStrictUtf8(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    const text = decodeUtf8(body as Buffer);
    if (text === undefined) return done(new AppError("validation_failed", NOT_UTF8), undefined);
    json(request, text, (error: Error | null, value?: unknown) => {
      if (error) return done(error, undefined);
      if (!isWellFormedDeep(value)) {
        return done(new AppError("validation_failed", LONE_SURROGATE), undefined);
      }
      done(null, value);
    });
  });
  app.addContentTypeParser("text/plain", { parseAs: "buffer" }, (_request, body, done) => {
    const text = decodeUtf8(body as Buffer);
    if (text === undefined) return done(new AppError("validation_failed", NOT_UTF8), undefined);
    done(null, text);
  });
  app.addHook("onRequest", async (request) => {
    if (!urlIsWellFormed(request.raw.url ?? "/")) {
      throw new AppError(
        "validation_failed",
        "The URL holds percent-encoded bytes that are not UTF-8",
      );
    }
  });
}
