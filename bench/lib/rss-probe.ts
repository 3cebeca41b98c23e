/**
 * Preloaded into the app by bench/rss.ts (`node --import ./bench/lib/rss-probe.ts
 * dist/main.mjs`): remembers every WebAssembly.Memory the process creates (PGlite's
 * PostgreSQL heap is one) and, asked over the IPC channel, answers with the process's own
 * view of its memory. It changes nothing else in the app.
 */
import { getHeapCodeStatistics, getHeapStatistics } from "node:v8";

const memories: WebAssembly.Memory[] = [];
const Original = WebAssembly.Memory;
globalThis.WebAssembly.Memory = new Proxy(Original, {
  construct(target, args: [WebAssembly.MemoryDescriptor]) {
    const memory = Reflect.construct(target, args) as WebAssembly.Memory;
    memories.push(memory);
    return memory;
  },
});

process.on("message", (message: unknown) => {
  if (message !== "rss-probe" && message !== "rss-probe-gc") return;
  // With --gc (bench/rss.ts starts the app with --expose-gc): what is garbage, collected.
  if (message === "rss-probe-gc") (globalThis as { gc?: () => void }).gc?.();
  const heap = getHeapStatistics();
  const code = getHeapCodeStatistics();
  process.send?.({
    memoryUsage: process.memoryUsage(),
    wasmMemoryBytes: memories.map((m) => m.buffer.byteLength),
    mallocedBytes: heap.malloced_memory,
    externalMemoryBytes: heap.external_memory,
    codeAndMetadataBytes: code.code_and_metadata_size + code.bytecode_and_metadata_size,
  });
});
// The IPC channel must not keep the app alive or change how it exits.
process.channel?.unref();
