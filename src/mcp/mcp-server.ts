import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { type McpToolOptions, registerMcpTools } from "../tools/mcp.ts";
import { VERSION } from "../version.ts";

const INSTRUCTIONS =
  "Tasktalk keeps the user's to-do list. Tasks are referred to by their number (task_id), " +
  "which list_tasks shows; never guess a number. Completing is not deleting: use complete_task " +
  "for done tasks and delete_task only when the user asks to remove one. A connection may be " +
  "read-only (scope tasks:read): a change then fails with insufficient_scope — tell the user " +
  "to reconnect Tasktalk and allow changes, and do not retry.";

/**
 * A new MCP server offering the task tools as one user. Built per HTTP request (and once per
 * stdio process): a server or transport shared between requests has leaked responses
 * between clients in past SDK versions, and nothing here is worth keeping between requests.
 */
export function createMcpServer(options: McpToolOptions): McpServer {
  const server = new McpServer(
    { name: "tasktalk", title: "Tasktalk", version: VERSION },
    { capabilities: { tools: { listChanged: false } }, instructions: INSTRUCTIONS },
  );
  registerMcpTools(server, options);
  return server;
}
