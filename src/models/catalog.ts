import type { LanguageModel } from "ai";
import { type Access, mayUseModel } from "../admin/features.ts";
import type { Config } from "../config.ts";
import { AppError } from "../errors.ts";
import { createLanguageModel } from "../llm/provider.ts";
import type { ModelSpec } from "./model.ts";

/**
 * The configured models and their language models (built once each, on first use), and
 * the rules for which one a conversation gets. Every place a model is chosen asks here.
 */
export interface ModelCatalog {
  readonly specs: readonly ModelSpec[];
  readonly defaultId: string;
  find(id: string): ModelSpec | undefined;
  languageModel(spec: ModelSpec): Promise<LanguageModel>;
}

export function createModelCatalog(llm: Config["llm"]): ModelCatalog {
  const built = new Map<string, Promise<LanguageModel>>();
  const byId = new Map(llm.models.map((m) => [m.id, m]));
  return {
    specs: llm.models,
    defaultId: llm.defaultModel,
    find: (id) => byId.get(id),
    languageModel(spec) {
      let model = built.get(spec.id);
      if (!model) {
        model = createLanguageModel(spec);
        built.set(spec.id, model);
      }
      return model;
    },
  };
}

/** The models this user may choose, in configuration order. */
export function allowedModels(catalog: ModelCatalog, access: Access): ModelSpec[] {
  return catalog.specs.filter((m) => mayUseModel(access, m.id));
}

/**
 * The model a user's new conversation gets when they name none: their own default, else
 * the server's, else the first they may use (each only if configured and allowed).
 */
export function defaultModelFor(
  catalog: ModelCatalog,
  access: Access,
  userDefault: string | null,
): ModelSpec | undefined {
  const allowed = allowedModels(catalog, access);
  return (
    allowed.find((m) => m.id === userDefault) ??
    allowed.find((m) => m.id === catalog.defaultId) ??
    allowed[0]
  );
}

/** A model the user names (a new conversation, a switch, their default): 400 / 403 if not. */
export function chooseModel(catalog: ModelCatalog, access: Access, id: string): ModelSpec {
  const spec = catalog.find(id);
  if (!spec) {
    throw new AppError("unknown_model", `No model "${id}" is configured (see GET /api/models)`);
  }
  if (!mayUseModel(access, id)) {
    throw new AppError("model_not_allowed", `Your account may not use the model "${id}"`);
  }
  return spec;
}

/**
 * The model a turn runs on: the conversation's. A conversation from before models were
 * chosen, or whose model is no longer configured, runs on the user's default; a model the
 * user may no longer use is refused (they switch the conversation with PATCH).
 */
export function turnModel(
  catalog: ModelCatalog,
  access: Access,
  stored: string | null,
): ModelSpec | AppError {
  const spec = stored === null ? undefined : catalog.find(stored);
  if (spec) {
    return mayUseModel(access, spec.id)
      ? spec
      : new AppError(
          "model_not_allowed",
          `Your account may not use this conversation's model "${spec.id}"; switch it to another`,
        );
  }
  return (
    defaultModelFor(catalog, access, null) ??
    new AppError("model_not_allowed", "Your account may not use any configured model")
  );
}
