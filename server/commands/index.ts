import { agentsCommand } from "./agents.js";
import type { CliCommand } from "./command.js";
import { decryptCommand } from "./decrypt.js";
import { demoCommand } from "./demo.js";
import { deployCommand } from "./deploy.js";
import { exportCommand } from "./export.js";
import { inboxCommand } from "./inbox.js";
import { keygenCommand } from "./keygen.js";
import { peekCommand } from "./peek.js";
import { previewCommand } from "./preview.js";
import { seedCommand } from "./seed.js";
import { sendCommand } from "./send.js";
import { serveCommand } from "./serve.js";
import { verifyCommand } from "./verify.js";

/**
 * Every `pigeonhole` subcommand, in `--help` order. Adding a command is one file under
 * `server/commands/` plus one entry here; the README coverage test then requires it to be documented.
 */
export const COMMANDS: readonly CliCommand[] = [
  serveCommand,
  sendCommand,
  inboxCommand,
  peekCommand,
  agentsCommand,
  seedCommand,
  exportCommand,
  keygenCommand,
  verifyCommand,
  decryptCommand,
  previewCommand,
  deployCommand,
  demoCommand,
];
