import type { LanguageModelV4Middleware } from "@ai-sdk/provider";
import { type LanguageModel, wrapLanguageModel } from "ai";

// A model whose answers wait for a gate (speculate.ts): the request goes out at once, the
// answer is read only once step A has committed the user message.

/** The gate opened with false: step A did not store the turn this request was built for. */
export class StepANotCommitted extends Error {
  override name = "StepANotCommitted";
}

/**
 * `model` whose answers are held until `gate` opens: the request itself goes out at once.
 * A gate that opens with false fails the call without reading the answer.
 */
export function heldUntil(
  model: LanguageModel,
  gate: Promise<boolean>,
  /** Called when the model is asked (its request is on its way). */
  onRequest?: () => void,
): LanguageModel {
  if (typeof model === "string") return model;
  const hold = async <T>(call: () => PromiseLike<T>): Promise<T> => {
    const answer = Promise.resolve(call());
    answer.catch(() => {});
    onRequest?.();
    if (!(await gate)) throw new StepANotCommitted("step A did not commit this turn");
    return answer;
  };
  const middleware: LanguageModelV4Middleware = {
    specificationVersion: "v4",
    wrapGenerate: ({ doGenerate }) => hold(doGenerate),
    wrapStream: ({ doStream }) => hold(doStream),
  };
  return wrapLanguageModel({ model, middleware });
}
