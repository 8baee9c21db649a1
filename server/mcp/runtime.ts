import type { Mailbox } from "../../engine/index.js";
import type { Logger } from "../log.js";
import type { Profile } from "./catalog.js";
import { ToolMetrics } from "./metrics.js";
import type { IdentityMode } from "./session.js";
import { MailWatcher } from "./watch.js";

/** What every session of one server process shares. */
export interface ServerRuntime {
  mailbox: Mailbox;
  log: Logger;
  metrics: ToolMetrics;
  profile: Profile;
  identityMode: IdentityMode;
  unreadNotice: boolean;
  watcher: MailWatcher;
}

/** Settings of a server process, from flags and environment. */
export interface RuntimeOptions {
  profile?: Profile;
  identityMode?: IdentityMode;
  unreadNotice?: boolean;
}

/** Build the shared runtime; defaults: `full` profile, strict identity, notices on. */
export function createRuntime(mailbox: Mailbox, log: Logger, options: RuntimeOptions = {}): ServerRuntime {
  return {
    mailbox,
    log,
    metrics: new ToolMetrics(),
    profile: options.profile ?? "full",
    identityMode: options.identityMode ?? "strict",
    unreadNotice: options.unreadNotice ?? true,
    watcher: new MailWatcher(mailbox, log),
  };
}
