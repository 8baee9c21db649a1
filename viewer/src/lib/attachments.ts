import type { Manifest } from "../../../exporter/bundle-format.js";
import type { ViewerDatabase } from "./database.js";
import { fromBase64 } from "./encoding.js";
import type { AttachmentMeta } from "./queries/messages.js";
import type { BundleSource } from "./source.js";
import { fileProblem } from "./verify.js";

/** Raster types shown inline as images. SVG and everything else are offered as downloads only. */
const INLINE_IMAGE = /^image\/(?:png|jpeg|gif|webp|avif|bmp)$/;

/** An attachment ready to show: an object URL for its bytes, or why there are none. */
export type ResolvedAttachment = { ok: true; url: string; image: boolean } | { ok: false; reason: string };

const ABSENT: Record<string, string> = {
  omitted: "left out of this bundle (too large)",
  missing: "was missing from the mailbox when the bundle was made",
  withheld: "withheld: its content matched a secret pattern",
};

async function bytesOf(
  meta: AttachmentMeta,
  db: ViewerDatabase,
  manifest: Manifest,
  source: BundleSource,
): Promise<Uint8Array | string> {
  switch (meta.status) {
    case "inline":
      return (meta.data_base64 && fromBase64(meta.data_base64)) || "its inline data is not valid base64";
    case "embedded": {
      const row = db.get<{ data: Uint8Array }>("SELECT data FROM attachment_blobs WHERE sha256 = ?", [
        meta.sha256,
      ]);
      return row?.data ?? "its bytes are not in this bundle's database";
    }
    case "file": {
      if (!meta.path) return "its file is not named";
      const data = await source.read(meta.path);
      return (await fileProblem(manifest, meta.path, data)) ?? (data as Uint8Array);
    }
    default:
      return ABSENT[meta.status] ?? `not available (${meta.status})`;
  }
}

/**
 * The bytes of an attachment, wherever the exporter put them; a bundle file must match its manifest
 * entry. The object URL is typed `application/octet-stream` except for inline raster images, so opening
 * it never renders HTML or SVG in the viewer's origin.
 */
export async function resolveAttachment(
  meta: AttachmentMeta,
  db: ViewerDatabase,
  manifest: Manifest,
  source: BundleSource,
): Promise<ResolvedAttachment> {
  const bytes = await bytesOf(meta, db, manifest, source);
  if (typeof bytes === "string") return { ok: false, reason: bytes };
  const image = INLINE_IMAGE.test(meta.media_type);
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], {
    type: image ? meta.media_type : "application/octet-stream",
  });
  return { ok: true, url: URL.createObjectURL(blob), image };
}
