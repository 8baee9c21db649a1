import { startArchiveWriter } from "./archive/writer.js";
import { Mailbox, type MailboxOptions } from "./mailbox.js";

/**
 * Open (creating if needed) the mailbox at `options.home`: migrates the schema and, when the archive is
 * on, starts the archive writer, which first drains any jobs a crashed process left behind.
 */
export function openMailbox(options: MailboxOptions = {}): Mailbox {
  const mailbox = new Mailbox(options);
  if (mailbox.archiveEnabled) mailbox.archive = startArchiveWriter(mailbox);
  return mailbox;
}
