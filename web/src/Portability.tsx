import { useId, useState } from "react";
import { errorText, problemOf } from "./api.ts";

interface ImportReport {
  tasks: { created: number; skipped: number };
  conversations: { created: number; skipped: number };
  failed: { key: string; reason: string }[];
  warnings: { key: string; warning: string }[];
}

/** A large import's job (GET /api/import/jobs/{id}). */
interface ImportJob {
  state: "queued" | "running" | "done" | "failed";
  total: number;
  processed: number;
  created: number;
  skipped: number;
  errors: { key: string; reason: string }[];
  warnings: { key: string; warning: string }[];
  error: string | null;
}

const POLL_MS = 500;

const FORMATS = [
  { value: "tasktalk", label: "Tasktalk export (.json)", accept: ".json,application/json" },
  { value: "todoist", label: "Todoist CSV", accept: ".csv,text/csv" },
  { value: "ticktick", label: "TickTick CSV backup", accept: ".csv,text/csv" },
] as const;

/** Export everything as one file, or import a Tasktalk export, a Todoist or TickTick CSV. */
export function Portability(props: { onImported(): void }) {
  const [format, setFormat] = useState<(typeof FORMATS)[number]["value"]>("tasktalk");
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const [progress, setProgress] = useState<{ processed: number; total: number } | null>(null);
  const fileId = useId();
  const formatId = useId();

  async function upload(file: File) {
    setBusy(true);
    setStatus(`Importing ${file.name}…`);
    try {
      const res = await fetch(`/api/import?format=${format}`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "content-type": format === "tasktalk" ? "application/json" : "text/csv" },
        body: await file.text(),
      });
      if (!res.ok) throw await problemOf(res);
      const report =
        res.status === 202
          ? await follow(res.headers.get("location") ?? "", (await res.json()) as ImportJob)
          : ((await res.json()) as ImportReport);
      const parts = [
        `${report.tasks.created} tasks added`,
        report.tasks.skipped ? `${report.tasks.skipped} already here` : "",
        report.conversations.created ? `${report.conversations.created} chats added` : "",
        report.failed.length ? `${report.failed.length} not imported` : "",
        report.warnings.length ? `${report.warnings.length} with a note` : "",
      ].filter(Boolean);
      setStatus(`Imported: ${parts.join(", ")}.`);
      props.onImported();
    } catch (error) {
      setStatus(`Import failed: ${errorText(error)}`);
    } finally {
      setProgress(null);
      setBusy(false);
    }
  }

  /** A large file imports as a job: its progress is polled until it ends. */
  async function follow(location: string, job: ImportJob): Promise<ImportReport> {
    let current = job;
    for (;;) {
      setProgress({ processed: current.processed, total: current.total });
      if (current.state === "done") break;
      if (current.state === "failed") throw new Error(current.error ?? "The import failed");
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const res = await fetch(location, { credentials: "same-origin" });
      if (!res.ok) throw await problemOf(res);
      current = (await res.json()) as ImportJob;
    }
    setProgress(null);
    return {
      tasks: { created: current.created, skipped: current.skipped },
      conversations: { created: 0, skipped: 0 },
      failed: current.errors,
      warnings: current.warnings,
    };
  }

  return (
    <details className="portability">
      <summary className="btn ghost small">Import / export</summary>
      <div className="portability-body">
        <a className="btn small" href="/api/export" download>
          Export everything
        </a>
        <label htmlFor={formatId}>Import from</label>
        <select
          id={formatId}
          value={format}
          onChange={(e) => setFormat(e.target.value as typeof format)}
        >
          {FORMATS.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
        <label htmlFor={fileId}>File</label>
        <input
          id={fileId}
          type="file"
          disabled={busy}
          accept={FORMATS.find((f) => f.value === format)?.accept}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void upload(file);
            e.target.value = "";
          }}
        />
        {progress && (
          <progress
            aria-label="Import progress"
            value={progress.processed}
            max={Math.max(progress.total, 1)}
          >
            {progress.processed} of {progress.total}
          </progress>
        )}
        <p role="status">{status}</p>
      </div>
    </details>
  );
}
