import { type Mailbox, type MailboxHealth, mailboxHealth } from "../engine/index.js";
import { PACKAGE } from "./version.js";

/** What `health_check` and `GET /health` return: the mailbox's figures plus the running release. */
export type HealthReport = MailboxHealth & { version: string };

/** Build the health report; throws only when the database cannot be read. */
export function healthReport(mailbox: Mailbox): HealthReport {
  return { ...mailboxHealth(mailbox), version: PACKAGE.version };
}
