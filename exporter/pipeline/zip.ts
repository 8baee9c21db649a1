import { closeSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Zip, ZipDeflate, ZipPassThrough } from "fflate";

/** Files stored without compression: already compressed, or ciphertext. */
const STORED = /\.(?:webp|png|jpe?g|gif|avif|zip|gz|woff2?|wasm\.gz)$/i;

/**
 * Write the files of `dir` (bundle-relative paths, in the given order) as a zip at `zipPath`, with the
 * paths at the zip's root. Database chunks of an encrypted bundle and compressed formats are stored;
 * everything else is deflated. Streams file by file: memory stays bounded by one read buffer. Returns
 * the zip's size.
 */
export function writeZip(
  dir: string,
  paths: readonly string[],
  zipPath: string,
  options: { encrypted: boolean; mtime: Date },
): number {
  const fd = openSync(zipPath, "wx", 0o644);
  let size = 0;
  let failure: Error | null = null;
  try {
    const zip = new Zip((error, data) => {
      if (error) failure = error;
      else {
        writeSync(fd, data);
        size += data.length;
      }
    });
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (const path of paths) {
      const stored = STORED.test(path) || (options.encrypted && path.startsWith("db/"));
      const entry = stored ? new ZipPassThrough(path) : new ZipDeflate(path, { level: 6 });
      entry.mtime = options.mtime;
      zip.add(entry);
      const input = openSync(join(dir, path), "r");
      try {
        for (;;) {
          const n = readSync(input, buffer, 0, buffer.length, null);
          if (n === 0) break;
          entry.push(buffer.subarray(0, n));
        }
        entry.push(new Uint8Array(0), true);
      } finally {
        closeSync(input);
      }
      if (failure) throw failure;
    }
    zip.end();
    if (failure) throw failure;
  } finally {
    closeSync(fd);
  }
  return size;
}
