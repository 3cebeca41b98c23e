import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { pageLimit } from "../conversations/conversation.routes.ts";
import { requireContext } from "../http/request-context.ts";
import { MARK_START, MARK_STOP } from "./search.repository.ts";
import { type SearchHit, searchEverything } from "./search.service.ts";

export const SEARCH_Q_MAX = 200;

const SearchHitJson = z.object({
  type: z.enum(["message", "task"]),
  id: z.string().describe("The message's id, or the task's uuid"),
  created_at: z.string(),
  snippet: z
    .string()
    .describe(`The matching text, matched words between ${MARK_START} and ${MARK_STOP}`),
  conversation_id: z.string().nullable().describe("A message: open it at seq"),
  conversation_title: z.string().nullable(),
  seq: z.number().nullable(),
  role: z.string().nullable(),
  task_id: z.number().nullable().describe("A task: its number (GET /api/tasks/{number})"),
  task_title: z.string().nullable(),
  completed: z.boolean().nullable(),
});

function toHitJson(h: SearchHit): z.infer<typeof SearchHitJson> {
  return {
    type: h.kind,
    id: h.id,
    created_at: h.at,
    snippet: h.snippet,
    conversation_id: h.conversation_id,
    conversation_title: h.conversation_title,
    seq: h.seq,
    role: h.role,
    task_id: h.task_number,
    task_title: h.task_title,
    completed: h.completed,
  };
}

export async function searchRoutes(app: FastifyInstance) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    "/api/search",
    {
      schema: {
        summary: "Search my messages and tasks (full text), newest first",
        querystring: z.strictObject({
          q: z
            .string()
            .trim()
            .min(1, "q must not be empty")
            .max(SEARCH_Q_MAX)
            .refine((q) => !q.includes("\u0000"), "q must not contain NUL characters")
            .describe('Words, "a phrase", -excluded, or: websearch syntax'),
          limit: pageLimit(20, 50),
          cursor: z.string().max(200).optional(),
        }),
        response: {
          200: z.object({ items: z.array(SearchHitJson), next_cursor: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      const page = await searchEverything(requireContext(request), request.query);
      return { items: page.items.map(toHitJson), next_cursor: page.nextCursor };
    },
  );
}
