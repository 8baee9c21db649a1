import { fail } from "../errors.js";
import { LIMITS } from "../limits.js";
import type { Mailbox } from "../mailbox.js";
import type { Project } from "../projects.js";
import { convertToWebp, isRasterImage, sniffMediaType } from "./attachment-media.js";
import { type CheckedFile, checkAttachmentPaths, readCheckedFile } from "./attachment-paths.js";
import { blobRelativePath, sha256Hex, storeBlob } from "./attachment-store.js";

export { blobRelativePath, extensionFor } from "./attachment-store.js";

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
 * Check, read and store the files named by `attachment_paths`; call before the message's write
 * transaction (this does file I/O and image conversion). Every path is checked before any file is read
 * (see attachment-paths.ts for what is allowed). Raster images become WebP, inlined when at most
 * `LIMITS.inlineImageBytes`, else stored as a blob; everything else is stored as a blob unchanged.
 * Blobs are written before the message commits, so a failed send can leave an unreferenced blob behind,
 * which is harmless: the store is content-addressed.
 * Throws TOO_LARGE (too many attachments, a file too large), INVALID_ARGUMENT or NOT_FOUND.
 */
export async function prepareAttachments(
  mb: Mailbox,
  project: Project,
  paths: readonly string[],
): Promise<PreparedAttachment[]> {
  if (paths.length === 0) return [];
  if (paths.length > LIMITS.attachmentsPerMessage) {
    throw fail.tooLarge(
      `${paths.length} attachments given; at most ${LIMITS.attachmentsPerMessage} per message. Send the rest in a follow-up message or pack them into one archive file.`,
      { count: paths.length, limit: LIMITS.attachmentsPerMessage },
    );
  }
  const files = await checkAttachmentPaths(mb, project, paths);
  const prepared: PreparedAttachment[] = [];
  // One file at a time: at most one attachment's bytes and pixels are in memory at once.
  for (const file of files) prepared.push(await prepareFile(mb, file));
  return prepared;
}

async function prepareFile(mb: Mailbox, file: CheckedFile): Promise<PreparedAttachment> {
  const original = await readCheckedFile(file);
  const mediaType = sniffMediaType(original, file.filename);
  const webp = isRasterImage(mediaType) ? await convertToWebp(original) : null;
  if (webp && webp.length <= LIMITS.inlineImageBytes) {
    return {
      sha256: sha256Hex(webp),
      filename: file.filename,
      media_type: "image/webp",
      bytes: webp.length,
      disposition: "inline",
      data_base64: webp.toString("base64"),
    };
  }
  const stored = webp ?? original;
  const storedType = webp ? "image/webp" : mediaType;
  return {
    sha256: await storeBlob(mb, stored, storedType),
    filename: file.filename,
    media_type: storedType,
    bytes: stored.length,
    disposition: "file",
    data_base64: null,
  };
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
    const list = result.get(row.message_id) ?? [];
    list.push(attachmentView(row));
    result.set(row.message_id, list);
  }
  return result;
}

/** How a stored (or prepared, about to be stored) attachment shows in message results. */
export function attachmentView(row: PreparedAttachment): AttachmentView {
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
  return view;
}
