import { useId, useState } from "react";
import { errorText, problemOf } from "./api.ts";

interface ImportReport {
  tasks: { created: number; skipped: number };
  conversations: { created: number; skipped: number };
  failed: { key: string; reason: string }[];
  warnings: { key: string; warning: string }[];
}

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
      const report = (await res.json()) as ImportReport;
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
      setBusy(false);
    }
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
        <p role="status">{status}</p>
      </div>
    </details>
  );
}
