import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The project root. This file sits one level below it, and so does the production bundle
 * (`dist/main.mjs`, see scripts/build-server.ts) that inlines it: the same expression holds
 * in both.
 */
export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A path inside the project: `rootPath("drizzle")`. */
export const rootPath = (...parts: string[]): string => join(ROOT, ...parts);
