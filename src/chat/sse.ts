import {
  type TextStreamPart,
  type ToolSet,
  toUIMessageStream,
  UI_MESSAGE_STREAM_HEADERS,
  type UIMessage,
  type UIMessageChunk,
} from "ai";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { RequestContext } from "../context.ts";
import { problemBody } from "../http/problem.ts";
import { turnProbe } from "../ops/metrics.ts";
import { replyIdFor } from "./ids.ts";
import { runTurn } from "./turn.service.ts";
import type { ReplayedTurn, StartedTurn, TurnDeps, TurnOutcome } from "./turn.ts";
import { regeneratedJson, turnJson } from "./turn-json.ts";

/**
 * Streams one turn in the AI SDK UI message stream protocol (SSE `data:` frames of
 * UIMessageChunk, ending with `data: [DONE]`), so AI SDK clients work unchanged. Before
 * `finish`, a `data-turn` part carries the stored ids. If the client goes away, generation
 * still runs to the end and the reply is stored: only the writes stop.
 */
export async function streamTurn(
  ctx: RequestContext,
  deps: TurnDeps,
  started: StartedTurn | ReplayedTurn,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  let open = true;
  raw.on("close", () => {
    open = false;
  });
  // The connection is kept alive after the stream, as after any response (a client's next
  // turn skips a new connection): shutdown closes idle sockets (server.ts). Once shutdown has
  // begun, the stream says Connection: close like every other response (ops/shutdown.ts).
  raw.writeHead(200, {
    ...UI_MESSAGE_STREAM_HEADERS,
    ...(request.server.shutdown.phase === "serving" ? {} : { connection: "close" }),
    "x-request-id": request.id,
  });
  const write = (chunk: UIMessageChunk | "[DONE]") => {
    if (open) raw.write(`data: ${typeof chunk === "string" ? chunk : JSON.stringify(chunk)}\n\n`);
  };
  // Exactly one `error` part per turn: a client's onError fires once per part.
  let errorSent = false;
  const metadata = {
    conversation_id: started.conversationId,
    user_message_id: started.userMessage.id,
  };

  let outcome: TurnOutcome;
  if (started.kind === "replay") {
    outcome = started;
    for (const chunk of replayChunks(outcome)) write(chunk);
  } else {
    // Model parts flow through the SDK's own converter into UI chunks.
    let push: ((part: TextStreamPart<ToolSet>) => void) | undefined;
    let close: (() => void) | undefined;
    const parts = new ReadableStream<TextStreamPart<ToolSet>>({
      start(controller) {
        push = (part) => controller.enqueue(part);
        close = () => controller.close();
      },
    });
    const ui = toUIMessageStream({
      stream: parts,
      sendFinish: false,
      // The reply's id is known before it is stored (ids.ts): `start` carries it, so an AI
      // SDK client's message has the id the API later returns.
      originalMessages: [] as UIMessage[],
      generateMessageId: () => started.regenerate?.replyId ?? replyIdFor(started.userMessage.id),
      messageMetadata: ({ part }) => (part.type === "start" ? metadata : undefined),
      onError: (error) =>
        error instanceof Error && error.name === "AppError"
          ? error.message
          : "The language model failed",
    });
    const pump = (async () => {
      for await (const chunk of ui) {
        if (chunk.type === "error") errorSent = true;
        write(chunk);
      }
    })();
    const probe = turnProbe(request.server, reply, "sse");
    try {
      outcome = await probe.track(
        runTurn(ctx, deps, started, (part) => {
          probe.onPart(part);
          push?.(part);
        }),
      );
    } catch (error) {
      close?.();
      await pump.catch(() => {});
      const appError = error as { code?: string };
      request.log.error({ err: error, code: appError.code }, "turn failed while streaming");
      if (!errorSent) {
        write({
          type: "error",
          errorText: "The turn could not be saved; send it again with the same client_message_id",
        });
      }
      write("[DONE]");
      raw.end();
      return;
    }
    close?.();
    await pump;
  }
  if (outcome.error) {
    if (!errorSent) write({ type: "error", errorText: outcome.error.detail });
    write({ type: "data-error", data: problemBody(request.id, outcome.error) } as UIMessageChunk);
  }
  write({ type: "data-turn", data: turnJson(outcome) } as UIMessageChunk);
  if (outcome.regenerate) {
    write({ type: "data-regenerated", data: regeneratedJson(outcome) } as UIMessageChunk);
  }
  write({ type: "finish", finishReason: outcome.error ? "error" : "stop" } as UIMessageChunk);
  write("[DONE]");
  raw.end();
}

function replayChunks(outcome: TurnOutcome): UIMessageChunk[] {
  const reply = outcome.reply;
  const chunks: UIMessageChunk[] = [
    {
      type: "start",
      messageId: reply?.id ?? replyIdFor(outcome.userMessage.id),
      messageMetadata: {
        conversation_id: outcome.conversationId,
        user_message_id: outcome.userMessage.id,
        replayed: true,
      },
    } as UIMessageChunk,
  ];
  for (const call of reply?.toolCalls ?? []) {
    const toolCallId = call.id ?? `${reply?.id}-${call.name}`;
    chunks.push({
      type: "tool-input-available",
      toolCallId,
      toolName: call.name,
      input: call.arguments,
    });
    chunks.push({ type: "tool-output-available", toolCallId, output: call.result });
  }
  if (reply?.content) {
    chunks.push({ type: "text-start", id: "replay" });
    chunks.push({ type: "text-delta", id: "replay", delta: reply.content });
    chunks.push({ type: "text-end", id: "replay" });
  }
  return chunks;
}
