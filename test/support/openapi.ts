import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";

/**
 * Checks real responses against the app's own OpenAPI document: the status must be
 * documented for the operation, the content type listed, and the body valid against the
 * documented schema (ajv, JSON Schema 2020-12 — the dialect of OpenAPI 3.1). Every call
 * through `call` is checked and recorded, so a test can also ask which operations it never
 * exercised.
 */

type Json = Record<string, unknown>;
interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: Json;
}

export interface CallOptions {
  /** Path parameters, filled into the template (`/api/tasks/{number}`). */
  params?: Record<string, string | number>;
  query?: string;
  headers?: Record<string, string>;
  payload?: InjectOptions["payload"];
}

export class ResponseChecker {
  readonly failures: string[] = [];
  /** `METHOD path status` of every checked response. */
  readonly seen = new Set<string>();
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  readonly doc: OpenApiDocument;
  private readonly app: FastifyInstance;

  constructor(doc: OpenApiDocument, app: FastifyInstance) {
    this.doc = doc;
    this.app = app;
    // strict: false: the document carries OpenAPI keywords (description, example) beside
    // the JSON Schema ones.
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.ajv);
    this.ajv.addSchema(doc as unknown as Json, "openapi");
  }

  /** Sends a request to the operation `method path` and checks the answer. */
  async call(method: string, path: string, options: CallOptions = {}) {
    let url = path.replace(/\{(\w+|\*)\}/g, (_, name: string) => {
      const value = options.params?.[name];
      if (value === undefined) throw new Error(`no value for {${name}} in ${path}`);
      return encodeURIComponent(String(value)).replace(/%2F/g, "/");
    });
    if (options.query) url += `?${options.query}`;
    const res = await this.app.inject({
      method: method as InjectOptions["method"],
      url,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.payload !== undefined ? { payload: options.payload } : {}),
    });
    this.check(method, path, res);
    return res;
  }

  /** Checks one response of the operation `method path`; failures are collected. */
  check(method: string, path: string, res: LightMyRequestResponse): void {
    const where = `${method} ${path} → ${res.statusCode}`;
    this.seen.add(`${method} ${path} ${res.statusCode}`);
    const operation = this.doc.paths[path]?.[method.toLowerCase()];
    if (!operation) {
      this.failures.push(`${where}: the operation is not in the document`);
      return;
    }
    const responses = operation.responses ?? {};
    const status = String(res.statusCode);
    const key = [status, `${status[0]}XX`, "default"].find((k) => responses[k]);
    if (!key) {
      this.failures.push(
        `${where}: status not documented (documented: ${Object.keys(responses).join(", ")}); body ${res.body.slice(0, 300)}`,
      );
      return;
    }
    const content = responses[key]?.content;
    if (!content || Object.keys(content).length === 0) {
      if (res.body.length > 0) this.failures.push(`${where}: documented without a body, got one`);
      return;
    }
    const mediaType = (String(res.headers["content-type"] ?? "").split(";")[0] ?? "")
      .trim()
      .toLowerCase();
    const mediaKey = mediaType && content[mediaType] ? mediaType : content["*/*"] ? "*/*" : "";
    if (!mediaKey) {
      this.failures.push(
        `${where}: content type ${mediaType || "(none)"} not documented (${Object.keys(content).join(", ")})`,
      );
      return;
    }
    if (!mediaType.includes("json")) return; // text, HTML, an event stream, a file
    let body: unknown;
    try {
      body = res.body.length === 0 ? undefined : JSON.parse(res.body);
    } catch {
      this.failures.push(`${where}: ${mediaType} body is not JSON`);
      return;
    }
    const pointer = ["paths", path, method.toLowerCase(), "responses", key, "content", mediaKey]
      .map((part) => part.replace(/~/g, "~0").replace(/\//g, "~1"))
      .join("/");
    const validate = this.validator(`openapi#/${pointer}/schema`);
    if (!validate(body)) {
      this.failures.push(
        `${where}: body does not match the documented schema: ${this.ajv.errorsText(validate.errors)}; body ${res.body.slice(0, 300)}`,
      );
    }
  }

  /** Operations of the document that no checked response exercised. */
  unexercised(): string[] {
    const missing: string[] = [];
    for (const [path, methods] of Object.entries(this.doc.paths)) {
      for (const method of Object.keys(methods)) {
        const prefix = `${method.toUpperCase()} ${path} `;
        if (![...this.seen].some((s) => s.startsWith(prefix))) missing.push(prefix.trim());
      }
    }
    return missing;
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    return validate;
  }
}
