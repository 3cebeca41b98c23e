import { readFileSync } from "node:fs";
import { rootPath } from "./paths.ts";

/** The package version, read once at start. */
export const VERSION: string = (
  JSON.parse(readFileSync(rootPath("package.json"), "utf8")) as {
    version: string;
  }
).version;
