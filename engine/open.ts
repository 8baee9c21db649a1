import { Mailbox, type MailboxOptions } from "./mailbox.js";

/**
 * Open (creating if needed) the mailbox at `options.home`: migrates the schema and, when the archive is
 * on, starts the archive writer, which first drains any jobs a crashed process left behind.
 */
export function openMailbox(options: MailboxOptions = {}): Mailbox {
  const mailbox = new Mailbox(options);
  // The archive writer is attached in archive/writer.ts (see startArchiveWriter) once it exists.
  return mailbox;
}
