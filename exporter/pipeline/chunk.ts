import { createHash, type Hash } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { chunkPath, type ManifestFile } from "../bundle-format.js";

/** The smallest accepted `--chunk-size`. */
export const MIN_CHUNK_BYTES = 64 * 1024;

export interface ChunkInput {
  /** The bytes to cut: the database file, or its age ciphertext. */
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
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
 * byte (a source of at most `chunkSize` bytes is one chunk). Hashes are computed while writing. Writes
 * are synchronous: each piece is consumed before the next is requested, so a source may reuse buffers.
 * Used by the export pipeline and by `pigeonhole decrypt`, so both cut a database the same way.
 */
export async function writeChunks(input: ChunkInput): Promise<ChunkOutput> {
  const { chunkSize } = input;
  const total = createHash("sha256");
  const chunks: ManifestFile[] = [];
  let size = 0;
  let current: { fd: number; hash: Hash; size: number } | null = null;
  const close = () => {
    if (!current) return;
    closeSync(current.fd);
    chunks.push({ path: chunkPath(chunks.length), size: current.size, sha256: current.hash.digest("hex") });
    current = null;
  };
  const start = () => {
    const path = join(input.bundleDir, chunkPath(chunks.length));
    mkdirSync(dirname(path), { recursive: true });
    current = { fd: openSync(path, "wx"), hash: createHash("sha256"), size: 0 };
    return current;
  };
  try {
    for await (const piece of input.source) {
      let offset = 0;
      while (offset < piece.length) {
        const chunk = current ?? start();
        const take = Math.min(chunkSize - chunk.size, piece.length - offset);
        const part = piece.subarray(offset, offset + take);
        for (let written = 0; written < part.length; ) written += writeSync(chunk.fd, part, written);
        chunk.hash.update(part);
        total.update(part);
        chunk.size += take;
        size += take;
        offset += take;
        if (chunk.size === chunkSize) close();
      }
      input.onBytes?.(size);
    }
    if (chunks.length === 0 && !current) start();
    close();
  } finally {
    if (current) closeSync((current as { fd: number }).fd);
  }
  return { chunks, size, sha256: total.digest("hex") };
}
