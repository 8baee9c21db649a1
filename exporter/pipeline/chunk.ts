import { createHash } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { chunkPath, type ManifestFile } from "../bundle-format.js";

/** The smallest accepted `--chunk-size`. */
export const MIN_CHUNK_BYTES = 64 * 1024;

export interface ChunkInput {
  /** The bytes to cut: the database file, or its age ciphertext. */
  source: AsyncIterable<Uint8Array>;
  bundleDir: string;
  chunkSize: number;
  onBytes?: (bytes: number) => void;
}

export interface ChunkOutput {
  chunks: ManifestFile[];
  size: number;
  /** sha256 of all the bytes, in order. */
  sha256: string;
}

/**
 * Write `source` as `db/chunk-00000`, `db/chunk-00001`, ... in `bundleDir`: every chunk exactly
 * `chunkSize` bytes except the last, so concatenating them in name order gives back the source byte for
 * byte (a source of at most `chunkSize` bytes is one chunk). Hashes are computed while writing.
 */
export async function writeChunks(input: ChunkInput): Promise<ChunkOutput> {
  const { chunkSize } = input;
  const total = createHash("sha256");
  const chunks: ManifestFile[] = [];
  let size = 0;
  let current: {
    handle: Awaited<ReturnType<typeof open>>;
    hash: ReturnType<typeof createHash>;
    size: number;
  } | null = null;
  const close = async () => {
    if (!current) return;
    await current.handle.close();
    chunks.push({ path: chunkPath(chunks.length), size: current.size, sha256: current.hash.digest("hex") });
    current = null;
  };
  const start = async () => {
    const path = join(input.bundleDir, chunkPath(chunks.length));
    await mkdir(dirname(path), { recursive: true });
    current = { handle: await open(path, "wx"), hash: createHash("sha256"), size: 0 };
    return current;
  };
  try {
    for await (const piece of input.source) {
      let offset = 0;
      while (offset < piece.length) {
        const chunk = current ?? (await start());
        const take = Math.min(chunkSize - chunk.size, piece.length - offset);
        const part = piece.subarray(offset, offset + take);
        await chunk.handle.write(part);
        chunk.hash.update(part);
        total.update(part);
        chunk.size += take;
        size += take;
        offset += take;
        if (chunk.size === chunkSize) await close();
      }
      input.onBytes?.(size);
    }
    if (chunks.length === 0 && !current) await start();
    await close();
  } finally {
    if (current) await (current as { handle: Awaited<ReturnType<typeof open>> }).handle.close();
  }
  return { chunks, size, sha256: total.digest("hex") };
}
