import { extname } from "node:path";
import sharp from "sharp";
import { LIMITS } from "../limits.js";

/**
 * What an attachment's bytes are, decided from the content (never trusted from the name alone), and
 * the conversion of raster images to WebP.
 */

/** Raster formats converted to WebP. SVG is deliberately absent: it can carry scripts, so it is never decoded. */
const RASTER_IMAGES = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/tiff",
  "image/avif",
]);

/** WebP quality: lossy 80 keeps screenshots legible at a fraction of PNG size. */
const WEBP_QUALITY = 80;

/**
 * Images with more pixels than this (all frames of an animation together) are not decoded, so a small
 * file that expands to gigabytes of pixels cannot exhaust memory; they are stored as they are. 8192².
 */
export const MAX_DECODED_PIXELS = 8192 * 8192;

/**
 * The media type of `bytes`: magic bytes for PNG, JPEG, GIF, WebP, TIFF, AVIF and PDF; SVG for XML text
 * whose root is `<svg>` (or any text named `.svg`); for other valid UTF-8 without NUL bytes
 * `text/markdown` (`.md`, `.markdown`), `application/json` (`.json`) or `text/plain`; otherwise
 * `application/octet-stream`. `filename` only picks among text types, never makes binary data text.
 */
export function sniffMediaType(bytes: Uint8Array, filename: string): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (start: number, end: number) => buf.toString("latin1", start, end);
  if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47 && buf.readUInt32BE(4) === 0x0d0a1a0a) {
    return "image/png";
  }
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return "image/jpeg";
  if (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a") return "image/gif";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (ascii(0, 4) === "II*\0" || ascii(0, 4) === "MM\0*") return "image/tiff";
  if (ascii(4, 8) === "ftyp" && isAvifBrand(buf)) return "image/avif";
  if (ascii(0, 5) === "%PDF-") return "application/pdf";

  const text = decodeText(buf);
  if (text === null) return "application/octet-stream";
  const ext = extname(filename).toLowerCase();
  if (ext === ".svg" || looksLikeSvg(text)) return "image/svg+xml";
  if (ext === ".md" || ext === ".markdown") return "text/markdown";
  if (ext === ".json") return "application/json";
  return "text/plain";
}

/** True for the raster formats `convertToWebp` accepts. */
export function isRasterImage(mediaType: string): boolean {
  return RASTER_IMAGES.has(mediaType);
}

/**
 * Re-encode a raster image as WebP (quality 80, same dimensions, EXIF orientation applied, metadata
 * dropped). Animated GIF and WebP keep every frame and their timing. Returns null when sharp cannot
 * decode the image (corrupt, truncated, more than MAX_DECODED_PIXELS) or the WebP would exceed the
 * attachment size limit: the caller then keeps the original bytes.
 */
export async function convertToWebp(bytes: Uint8Array): Promise<Buffer | null> {
  try {
    const webp = await sharp(bytes, {
      animated: true,
      autoOrient: true,
      failOn: "error",
      limitInputPixels: MAX_DECODED_PIXELS,
    })
      .webp({ quality: WEBP_QUALITY })
      .toBuffer();
    return webp.length <= LIMITS.attachmentBytes ? webp : null;
  } catch {
    // Undecodable input is not the sender's error: the file is attached as it is.
    return null;
  }
}

/** An ISO-BMFF `ftyp` box whose major or compatible brands include AVIF. */
function isAvifBrand(buf: Buffer): boolean {
  const boxSize = Math.min(buf.length >= 4 ? buf.readUInt32BE(0) : 0, buf.length, 64);
  for (let offset = 8; offset + 4 <= boxSize; offset += 4) {
    if (offset === 12) continue; // minor_version, not a brand
    const brand = buf.toString("latin1", offset, offset + 4);
    if (brand === "avif" || brand === "avis") return true;
  }
  return false;
}

/** The UTF-8 text of `buf`, or null when it is not valid UTF-8 or contains a NUL byte (binary). */
function decodeText(buf: Buffer): string | null {
  if (buf.includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    return null;
  }
}

/** XML text whose first element (after declarations, comments and a doctype) is `<svg>`. */
function looksLikeSvg(text: string): boolean {
  const head = text.slice(0, 4096);
  return /^(?:\s|<\?xml[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>[]*(?:\[[\s\S]*?\])?\s*>)*<(?:svg:)?svg[\s>/]/i.test(
    head,
  );
}
