import { randomBytes } from "node:crypto";
import type { Db } from "../db/client.ts";
import { oauthResource } from "../db/schema.ts";
import { MCP_RESOURCE_NAME, mcpResource } from "./auth.ts";

/**
 * The MCP resource row of the OAuth provider, stored before Better Auth starts. The plugin
 * seeds it itself (find, then insert), and treats a concurrent instance's insert as done
 * only when the error message says "unique" or "duplicate" — but Drizzle's adapter error
 * says "Failed query: …" and keeps PostgreSQL's message in `cause`, so a second instance
 * starting at the same moment (or one whose find ran before the other's insert) crashed.
 * `on conflict do nothing` makes the race harmless; the plugin then finds the row.
 */
export async function seedMcpResource(db: Db, baseURL: string): Promise<void> {
  const now = new Date();
  await db
    .insert(oauthResource)
    .values({
      id: randomBytes(24).toString("base64url"),
      identifier: mcpResource(baseURL),
      name: MCP_RESOURCE_NAME,
      dpopBoundAccessTokensRequired: false,
      disabled: false,
      policyVersion: 1,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing({ target: oauthResource.identifier });
}
