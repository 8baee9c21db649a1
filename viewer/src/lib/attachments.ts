import { ATTACHMENTS_DIR, type Manifest } from "../../../exporter/bundle-format.js";
import { fromBase64 } from "./encoding.js";
import type { AttachmentMeta } from "./queries/messages.js";
import type { BundleSource } from "./source.js";
import { fileProblem } from "./verify.js";

/** Raster types shown inline as images. SVG and everything else are offered as downloads only. */
const INLINE_IMAGE = /^image\/(?:png|jpeg|gif|webp|avif|bmp)$/;

/** An attachment ready to show: an object URL for its bytes, or why there are none. */
export type ResolvedAttachment = { ok: true; url: string; image: boolean } | { ok: false; reason: string };

/**
 * The bytes of an attachment: inline in the database (`data_base64`), or a content-addressed file of the
 * bundle (`attachments/<first two hex>/<sha256>[.ext]`) that must match its manifest entry. The object URL
 * is typed `application/octet-stream` except for inline raster images, so opening it never renders HTML
 * or SVG in the viewer's origin.
 */
export async function resolveAttachment(
  meta: AttachmentMeta,
  manifest: Manifest,
  source: BundleSource,
): Promise<ResolvedAttachment> {
  let bytes: Uint8Array | null = null;
  if (meta.data_base64) {
    bytes = fromBase64(meta.data_base64);
    if (bytes === null) return { ok: false, reason: "its inline data is not valid base64" };
  } else {
    const prefix = `${ATTACHMENTS_DIR}/${meta.sha256.slice(0, 2)}/${meta.sha256}`;
    const entry = manifest.files.find((f) => f.path === prefix || f.path.startsWith(`${prefix}.`));
    if (!entry) return { ok: false, reason: "not included in this bundle" };
    const data = await source.read(entry.path);
    const problem = await fileProblem(manifest, entry.path, data);
    if (problem) return { ok: false, reason: problem };
    bytes = data;
  }
  const image = INLINE_IMAGE.test(meta.media_type);
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], {
    type: image ? meta.media_type : "application/octet-stream",
  });
  return { ok: true, url: URL.createObjectURL(blob), image };
}
