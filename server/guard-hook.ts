import { parseArgs } from "node:util";
import { runPrecommitGuard } from "../engine/index.js";

/**
 * Entry point of the Git pre-commit hook written by install_precommit_guard:
 * `node dist/server/guard-hook.js --home <mailbox home> --project <slug>`, run by Git in the work tree.
 * Exit 0 allows the commit, 1 refuses it; the reasons go to stderr.
 */
async function main(): Promise<number> {
  let home: string | undefined;
  let project: string | undefined;
  try {
    ({
      values: { home, project },
    } = parseArgs({ options: { home: { type: "string" }, project: { type: "string" } }, strict: true }));
  } catch (error) {
    process.stderr.write(`pigeonhole guard: ${(error as Error).message}; commit allowed.\n`);
    return 0;
  }
  if (home === undefined || project === undefined) {
    process.stderr.write(
      "pigeonhole guard: usage: guard-hook.js --home <dir> --project <slug>; commit allowed.\n",
    );
    return 0;
  }
  const outcome = await runPrecommitGuard({ home, project, cwd: process.cwd(), env: process.env });
  if (outcome.message !== "") process.stderr.write(`${outcome.message}\n`);
  return outcome.exit_code;
}

process.exitCode = await main();
