#!/usr/bin/env node
// Account administration from the command line, on the configured database:
//   npm run admin -- promote <email>
import { AdminCommandError, runAdminCommand } from "../src/admin/admin-cli.ts";
import { ConfigError, loadConfig } from "../src/config.ts";

try {
  console.log(await runAdminCommand(loadConfig(), process.argv.slice(2)));
} catch (error) {
  if (error instanceof ConfigError || error instanceof AdminCommandError) {
    console.error(`tasktalk admin: ${error.message}`);
  } else {
    console.error("tasktalk admin: failed:", error);
  }
  process.exit(1);
}
