import { open, readdir, realpath } from "node:fs/promises";
import { join, sep } from "node:path";
import { isSafeBundlePath } from "../bundle-format.js";
import type { BundleReader } from "./reader.js";

/**
 * A `BundleReader` over a bundle directory. Only regular files inside the directory are read: a path
 * that is or goes through a symbolic link, or is not a regular file, fails to read (verify names it), so
 * a bundle cannot smuggle in a file from elsewhere on the machine.
 */
export async function directoryReader(root: string): Promise<BundleReader> {
  const realRoot = await realpath(root);
  return {
    source: root,
    list: () => listFiles(realRoot),
    async read(path, limit) {
      if (!isSafeBundlePath(path)) throw new Error(`unsafe path ${JSON.stringify(path)}`);
      const full = join(realRoot, ...path.split("/"));
      let real: string;
      try {
        real = await realpath(full);
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
      if (real !== full) throw new Error("is a symbolic link or inside one; bundles hold regular files only");
      const handle = await open(full, "r");
      try {
        if (!(await handle.stat()).isFile()) throw new Error("not a regular file");
        return await readAtMost(handle, limit + 1);
      } finally {
        await handle.close();
      }
    },
    close: async () => {},
  };
}

/** Every entry below `root` that is not a directory (symlinks and special files included), `/`-separated. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) =>
      join(entry.parentPath, entry.name)
        .slice(root.length + 1)
        .split(sep)
        .join("/"),
    )
    .sort();
}

async function readAtMost(handle: import("node:fs/promises").FileHandle, max: number): Promise<Uint8Array> {
  const { size } = await handle.stat();
  const buffer = new Uint8Array(Math.min(size, max));
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
