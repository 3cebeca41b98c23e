import { useEffect, useState } from "react";
import { models as api, errorText, type Model, type Totals, type Usage } from "./api.ts";

// The model picker of a conversation, a reply's tokens and cost, and the day's and month's
// totals (issue 19). Costs are millionths of whatever currency the server's prices are in.

/** A cost in micro-units as a plain decimal ("0.0045"), without a currency symbol. */
export function formatCost(micros: number): string {
  if (micros === 0) return "0";
  const text = (micros / 1_000_000).toFixed(6).replace(/0+$/, "").replace(/\.$/, "");
  return text === "0" ? "<0.000001" : text;
}

const count = (n: number) => n.toLocaleString("en");

/** "1,200 tokens (1,000 in, 200 out) · cost 0.0045": empty when nothing was reported. */
export function usageText(u: Usage | Totals): string {
  const parts: string[] = [];
  if (u.total_tokens !== null) {
    const split =
      u.input_tokens !== null && u.output_tokens !== null
        ? ` (${count(u.input_tokens)} in, ${count(u.output_tokens)} out)`
        : "";
    parts.push(`${count(u.total_tokens)} tokens${split}`);
  }
  if (u.cost_micros !== null) parts.push(`cost ${formatCost(u.cost_micros)}`);
  return parts.join(" · ");
}

/** A reply's usage line under its bubble: the model, tokens, cost. */
export function ReplyUsage(props: { usage: Usage; label: string | undefined }) {
  const text = usageText(props.usage);
  const model = props.label ?? props.usage.model;
  if (!text && !model) return null;
  return (
    <p className="usage">
      {model && <span className="usage-model">{model}</span>}
      {model && text && " · "}
      {text}
    </p>
  );
}

export interface ModelChoice {
  models: Model[];
  defaultId: string | null;
}

/** The models the user may choose (loaded once per page). */
export function useModels(): ModelChoice | null {
  const [choice, setChoice] = useState<ModelChoice | null>(null);
  useEffect(() => {
    let live = true;
    api
      .list()
      .then((list) => live && setChoice({ models: list.items, defaultId: list.default }))
      .catch(() => live && setChoice({ models: [], defaultId: null }));
    return () => {
      live = false;
    };
  }, []);
  return choice;
}

/**
 * Which model this conversation uses, and switching it: a new conversation's choice is
 * sent with its first message; an existing one's is saved at once (PATCH).
 */
export function ModelPicker(props: {
  choice: ModelChoice;
  value: string | null;
  disabled: boolean;
  onChange: (id: string) => void;
}) {
  const { models } = props.choice;
  if (models.length === 0) return null;
  const current = props.value ?? props.choice.defaultId ?? models[0]?.id ?? "";
  const known = models.some((m) => m.id === current);
  return (
    <label className="model-picker">
      <span className="model-picker-label">Model</span>
      <select
        value={current}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.target.value)}
      >
        {!known && current && <option value={current}>{current} (not available)</option>}
        {models.map((m) => (
          <option key={m.id} value={m.id}>
            {m.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Today's and this month's tokens and cost, refreshed after every turn (`version`). */
export function UsageSummary(props: { version: number }) {
  const [text, setText] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` is the refresh signal
  useEffect(() => {
    let live = true;
    api
      .usage()
      .then((u) => {
        if (!live) return;
        const day = usageText(u.day) || "nothing yet";
        const month = usageText(u.month) || "nothing yet";
        setText(`Today: ${day}. This month: ${month}.`);
      })
      .catch((error) => live && setText(`Usage unavailable: ${errorText(error)}`));
    return () => {
      live = false;
    };
  }, [props.version]);
  if (!text) return null;
  return (
    <p className="usage-summary" aria-live="polite">
      {text}
    </p>
  );
}
