import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { z } from "zod";
import { classifyDbError, toAppError } from "../db/db-errors.ts";
import { AppError, ERROR_CODES, type ErrorCode, RETRYABLE_CODES } from "../errors.ts";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/**
 * The one error body (RFC 9457), as documented in the OpenAPI document: each operation's
 * problem responses narrow `status` and `code` to what that route answers with. Some
 * errors carry extra members (a failed turn's `conversation_id`, Better Auth's `auth_code`).
 */
export const ProblemJson = z
  .looseObject({
    type: z.string().describe("`urn:tasktalk:error:<code>`"),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
    request_id: z.string(),
  })
  .meta({ id: "Problem", description: "An error (application/problem+json)" });

/** The shared Problem (a components schema), narrowed to one status and its codes. */
export function problemSchema(status: string | number, codes: readonly ErrorCode[]) {
  return {
    allOf: [
      { $ref: "#/components/schemas/Problem" },
      { properties: { status: { const: Number(status) }, code: { enum: [...codes] } } },
    ],
  };
}

/** Codes grouped by their HTTP status (as OpenAPI response keys), each list sorted. */
export function groupByStatus(codes: Iterable<ErrorCode>): Map<string, ErrorCode[]> {
  const byStatus = new Map<string, ErrorCode[]>();
  for (const code of [...new Set(codes)].sort()) {
    const status = String(ERROR_CODES[code].status);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return byStatus;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  request_id: string;
  [extra: string]: unknown;
}

/** The one place where any error becomes an HTTP answer (application/problem+json). */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => answerError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      new AppError("not_found", `No route for ${request.method} ${request.url.split("?")[0]}`),
    ),
  );
}

/**
 * Any error as a problem response, logged. `members` adds to (or, for a client that reads
 * other names, replaces) the body's members — e.g. Better Auth's `code` and `message`.
 */
export function answerError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  members?: (error: AppError) => Record<string, unknown>,
) {
  const appError = toHttpError(error);
  logError(request, error, appError);
  if (!members) return sendProblem(reply, request, appError);
  const extra = { ...appError.extra, ...members(appError) };
  return sendProblem(
    reply,
    request,
    new AppError(appError.code, appError.detail, { cause: error, extra }),
  );
}

export function problemBody(requestId: string, error: AppError): Problem {
  return {
    type: `urn:tasktalk:error:${error.code}`,
    title: ERROR_CODES[error.code].title,
    status: error.status,
    detail: error.detail,
    code: error.code,
    request_id: requestId,
    ...error.extra,
  };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, error: AppError) {
  if (RETRYABLE_CODES.has(error.code))
    reply.header("retry-after", error.code === "rate_limited" ? "60" : "1");
  if (error.headers) reply.headers(error.headers);
  if (error.code === "unauthorized" && !error.headers?.["www-authenticate"]) {
    reply.header("www-authenticate", 'Bearer realm="tasktalk"');
  }
  // Serialized here: a route's response schema for this status (GET /health's 503 body)
  // must never be applied to a problem.
  return reply
    .status(error.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problemBody(request.id, error)));
}

/** Maps framework, validation and database errors onto the closed list of codes. */
export function toHttpError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const detail = error.validation
      .slice(0, 5)
      .map((v) => `${v.instancePath || error.validationContext || "body"}: ${v.message}`)
      .join("; ");
    // Path parameters are ids: a malformed one is `invalid_id`, whatever the route.
    const code = error.validationContext === "params" ? "invalid_id" : "validation_failed";
    return new AppError(code, detail, { cause: error });
  }
  if (classifyDbError(error)) return toAppError(error);
  const fe = error as Partial<FastifyError>;
  const byCode = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (byCode) return new AppError(byCode, fe.message, { cause: error });
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = STATUS_CODES[fe.statusCode] ?? "validation_failed";
    return new AppError(code, fe.message, { cause: error });
  }
  return new AppError("internal_error", undefined, { cause: error });
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "validation_failed",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_BAD_URL: "invalid_id",
  FST_ERR_MAX_PARAM_LENGTH: "invalid_id",
  FST_ERR_VALIDATION: "validation_failed",
};

const STATUS_CODES: Record<number, ErrorCode> = {
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
};

function logError(request: FastifyRequest, original: unknown, error: AppError): void {
  const category =
    (error.extra?.category as string | undefined) ??
    (error.status >= 500
      ? "server"
      : error.status === 401 || error.status === 403
        ? "auth"
        : "client");
  const fields = { err: original, code: error.code, status: error.status, category };
  if (error.status >= 500) request.log.error(fields, error.detail);
  else request.log.info(fields, error.detail);
}
