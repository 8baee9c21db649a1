import { readFile, stat } from "node:fs/promises";
import { fail } from "../../engine/errors.js";
import { LIMITS } from "../../engine/limits.js";
import { directoryReader } from "./dir-reader.js";
import type { BundleReader } from "./reader.js";
import { fetchSameOrigin, readBodyAtMost, urlReader } from "./url-reader.js";
import { zipReader } from "./zip-reader.js";

/**
 * Open the bundle at `source`: an http(s) URL of a bundle directory or of a `.zip`, a local directory, or
 * a local zip file. Throws NOT_FOUND when the path does not exist, INVALID_ARGUMENT when it is neither a
 * directory nor a zip, and what `zipReader` throws for a zip it refuses.
 */
export async function openBundle(source: string): Promise<BundleReader> {
  if (/^https?:\/\//i.test(source)) {
    return new URL(source).pathname.toLowerCase().endsWith(".zip")
      ? zipReader(await fetchZip(source), source)
      : urlReader(source);
  }
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(source);
  } catch {
    throw fail.notFound(`No bundle at ${source}: give a bundle directory, a bundle .zip or an http(s) URL.`);
  }
  if (info.isDirectory()) return directoryReader(source);
  if (info.size > LIMITS.bundleZipBytes) {
    throw fail.tooLarge(
      `${source} is larger than ${LIMITS.bundleZipBytes} bytes (bundleZipBytes); unpack it and use the directory.`,
    );
  }
  const bytes = new Uint8Array(await readFile(source));
  if (!isZip(bytes)) throw fail.invalid(`${source} is neither a bundle directory nor a zip file.`);
  return zipReader(bytes, source);
}

function isZip(bytes: Uint8Array): boolean {
  // Local file header, or the end-of-central-directory record of an empty zip.
  return bytes[0] === 0x50 && bytes[1] === 0x4b && (bytes[2] === 3 || bytes[2] === 5);
}

async function fetchZip(url: string): Promise<Uint8Array> {
  const target = new URL(url);
  const response = await fetchSameOrigin(target, target.origin);
  if (!response.ok) {
    await response.body?.cancel();
    throw fail.notFound(`${url}: HTTP ${response.status}; check the URL.`);
  }
  const bytes = await readBodyAtMost(response, LIMITS.bundleZipBytes + 1);
  if (bytes.length > LIMITS.bundleZipBytes) {
    throw fail.tooLarge(
      `${url} is larger than ${LIMITS.bundleZipBytes} bytes (bundleZipBytes); download and unpack it.`,
    );
  }
  return bytes;
}
