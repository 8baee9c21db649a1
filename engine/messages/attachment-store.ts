import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Mailbox } from "../mailbox.js";

/**
 * The content-addressed blob store under `<home>/attachments`: a blob is named by the sha256 of its
 * bytes, so storing the same content twice writes one file, and a blob never changes once written.
 */

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
    "image/tiff": ".tif",
    "image/avif": ".avif",
    "image/svg+xml": ".svg",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/json": ".json",
    "application/pdf": ".pdf",
  };
  return known[mediaType] ?? ".bin";
}

/** Lower-case hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Store `bytes` as a blob of `mediaType`; returns its sha256. Atomic: the blob appears complete (written
 * and synced to a temporary file, then renamed) or not at all, so a reader or a crash never sees half a
 * blob. A blob that already exists with the right size is left alone (dedup); concurrent writers of
 * the same content are harmless because they rename identical bytes onto the same name.
 */
export async function storeBlob(mb: Mailbox, bytes: Uint8Array, mediaType: string): Promise<string> {
  const sha256 = sha256Hex(bytes);
  const target = join(mb.paths.home, blobRelativePath(sha256, mediaType));
  if (await hasSize(target, bytes.length)) return sha256;
  await mkdir(dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const handle = await open(temp, "wx", 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return sha256;
}

async function hasSize(path: string, size: number): Promise<boolean> {
  try {
    const info = await stat(path);
    return info.isFile() && info.size === size;
  } catch {
    return false;
  }
}
