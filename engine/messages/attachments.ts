import type { Mailbox } from "../mailbox.js";
import type { Project } from "../projects.js";

/** An attachment ready to be recorded with its message (the blob, if any, is already stored). */
export interface PreparedAttachment {
  sha256: string;
  filename: string;
  media_type: string;
  bytes: number;
  disposition: "inline" | "file";
  data_base64: string | null;
}

/** An attachment as shown in message results. */
export interface AttachmentView {
  type: "inline" | "file";
  name: string;
  media_type: string;
  bytes: number;
  sha256: string;
  /** For `file`: path of the blob relative to the mailbox home, e.g. `attachments/ab/<sha256>.webp`. */
  path?: string;
  /** For `inline`: a `data:` URI. */
  data_uri?: string;
}

/**
 * Read, check and store the files named by `attachment_paths` (before the message's transaction).
 * Placeholder until the attachment store lands: refuses any attachment.
 */
export async function prepareAttachments(
  _mb: Mailbox,
  _project: Project,
  paths: readonly string[],
): Promise<PreparedAttachment[]> {
  if (paths.length === 0) return [];
  throw new Error("attachments are not implemented yet");
}

/** Record prepared attachments for `messageId`; call inside the message's write transaction. */
export function insertAttachments(
  mb: Mailbox,
  messageId: number,
  prepared: readonly PreparedAttachment[],
): void {
  const insert = mb.statement(
    `INSERT INTO message_attachments (message_id, ordinal, sha256, filename, media_type, bytes, disposition, data_base64)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  prepared.forEach((a, ordinal) => {
    insert.run(messageId, ordinal, a.sha256, a.filename, a.media_type, a.bytes, a.disposition, a.data_base64);
  });
}

/** The attachments of each of `messageIds`, in one query. Messages without attachments are absent. */
export function attachmentsFor(mb: Mailbox, messageIds: readonly number[]): Map<number, AttachmentView[]> {
  const result = new Map<number, AttachmentView[]>();
  if (messageIds.length === 0) return result;
  const rows = mb
    .statement<{
      message_id: number;
      sha256: string;
      filename: string;
      media_type: string;
      bytes: number;
      disposition: "inline" | "file";
      data_base64: string | null;
    }>(
      `SELECT message_id, sha256, filename, media_type, bytes, disposition, data_base64
       FROM message_attachments WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY message_id, ordinal`,
    )
    .all(JSON.stringify(messageIds));
  for (const row of rows) {
    const view: AttachmentView = {
      type: row.disposition,
      name: row.filename,
      media_type: row.media_type,
      bytes: row.bytes,
      sha256: row.sha256,
    };
    if (row.disposition === "inline" && row.data_base64 !== null) {
      view.data_uri = `data:${row.media_type};base64,${row.data_base64}`;
    } else {
      view.path = blobRelativePath(row.sha256, row.media_type);
    }
    const list = result.get(row.message_id) ?? [];
    list.push(view);
    result.set(row.message_id, list);
  }
  return result;
}

/** Where a blob lives, relative to the mailbox home: `attachments/<first two hex>/<sha256><ext>`. */
export function blobRelativePath(sha256: string, mediaType: string): string {
  return `attachments/${sha256.slice(0, 2)}/${sha256}${extensionFor(mediaType)}`;
}

/** File extension (with dot) for a media type; `.bin` when unknown. */
export function extensionFor(mediaType: string): string {
  const known: Record<string, string> = {
    "image/webp": ".webp",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/svg+xml": ".svg",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/json": ".json",
    "application/pdf": ".pdf",
  };
  return known[mediaType] ?? ".bin";
}
