import { z } from "zod";

/** The problem+json body (src/http/problem.ts) as a response schema, for the OpenAPI document. */
export const ProblemJson = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string(),
    code: z.string(),
    request_id: z.string(),
  })
  .loose();

/** The problem responses every authenticated route can answer with, plus `extra` codes. */
export function problems(...statuses: number[]) {
  const all = [...new Set([400, 401, 503, ...statuses])];
  return Object.fromEntries(all.map((s) => [s, ProblemJson])) as Record<number, typeof ProblemJson>;
}
