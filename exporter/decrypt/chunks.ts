import { createHash } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { chunkPath, type ManifestFile } from "../bundle-format.js";

/**
 * Write `source` into `bundleDir` as `db/chunk-00000`, `db/chunk-00001`, ...: every chunk exactly
 * `chunkSize` bytes but the last, so the chunks concatenated in name order are the source byte for byte.
 * Each chunk and the whole are hashed while writing. (The export pipeline cuts its database the same way.)
 */
export async function writeDatabaseChunks(input: {
  source: AsyncIterable<Uint8Array>;
  bundleDir: string;
  chunkSize: number;
}): Promise<{ chunks: ManifestFile[]; size: number; sha256: string }> {
  const { bundleDir, chunkSize } = input;
  await mkdir(join(bundleDir, dirname(chunkPath(0))), { recursive: true });
  const whole = createHash("sha256");
  const chunks: ManifestFile[] = [];
  let size = 0;
  let handle: Awaited<ReturnType<typeof open>> | null = null;
  let hash = createHash("sha256");
  let filled = 0;
  const finish = async () => {
    if (!handle) return;
    await handle.close();
    handle = null;
    chunks.push({ path: chunkPath(chunks.length), size: filled, sha256: hash.digest("hex") });
  };
  try {
    for await (const piece of input.source) {
      whole.update(piece);
      size += piece.length;
      for (let offset = 0; offset < piece.length; ) {
        if (!handle) {
          handle = await open(join(bundleDir, chunkPath(chunks.length)), "wx");
          hash = createHash("sha256");
          filled = 0;
        }
        const part = piece.subarray(offset, offset + chunkSize - filled);
        await handle.write(part);
        hash.update(part);
        filled += part.length;
        offset += part.length;
        if (filled === chunkSize) await finish();
      }
    }
    await finish();
  } finally {
    await (handle as Awaited<ReturnType<typeof open>> | null)?.close();
  }
  return { chunks, size, sha256: whole.digest("hex") };
}
