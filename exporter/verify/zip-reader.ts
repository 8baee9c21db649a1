import { unzipSync } from "fflate";
import { fail } from "../../engine/errors.js";
import { LIMITS } from "../../engine/limits.js";
import { BUNDLE_FILES, isSafeBundlePath } from "../bundle-format.js";
import type { BundleReader } from "./reader.js";

/**
 * A `BundleReader` over a bundle zip held in memory. The zip is refused as a whole (INVALID_ARGUMENT or
 * TOO_LARGE, naming the entry) before anything is unpacked when an entry name is not a safe bundle path
 * (`../evil`, absolute, backslashes), a name repeats, there are more than `LIMITS.bundleZipEntries`
 * entries, or the declared unpacked sizes add up to more than `LIMITS.bundleZipBytes`. Unpacking never
 * writes past an entry's declared size, so a lying header cannot inflate memory either. A zip whose files
 * all sit under one top-level directory holding manifest.json is read from inside that directory.
 */
export function zipReader(
  zip: Uint8Array,
  source: string,
  limits: { bytes: number; entries: number } = {
    bytes: LIMITS.bundleZipBytes,
    entries: LIMITS.bundleZipEntries,
  },
): BundleReader {
  const seen = new Set<string>();
  let total = 0;
  const files = unzipSync(zip, {
    filter(entry) {
      const isDirectory = entry.name.endsWith("/");
      const name = isDirectory ? entry.name.slice(0, -1) : entry.name;
      if (!isSafeBundlePath(name)) {
        throw fail.invalid(
          `${source}: zip entry ${JSON.stringify(entry.name)} is not a safe relative path; refusing the zip.`,
          {
            path: entry.name,
          },
        );
      }
      if (seen.has(name))
        throw fail.invalid(`${source}: zip entry ${name} appears twice; refusing the zip.`, { path: name });
      seen.add(name);
      if (seen.size > limits.entries) {
        throw fail.tooLarge(
          `${source}: more than ${limits.entries} zip entries (bundleZipEntries); unpack it and use the directory.`,
        );
      }
      total += entry.originalSize;
      if (total > limits.bytes) {
        throw fail.tooLarge(
          `${source}: unpacks to more than ${limits.bytes} bytes (bundleZipBytes); unpack it and use the directory.`,
        );
      }
      return !isDirectory;
    },
  });
  const entries = new Map(Object.entries(files));
  const prefix = commonBundleRoot([...entries.keys()]);
  const bundle = new Map([...entries].map(([name, bytes]) => [name.slice(prefix.length), bytes]));
  return {
    source,
    list: async () => [...bundle.keys()].sort(),
    read: async (path, limit) => bundle.get(path)?.subarray(0, limit + 1) ?? null,
    close: async () => bundle.clear(),
  };
}

/** `dir/` when every file is under `dir/` and `dir/manifest.json` exists (a zipped directory); else "". */
function commonBundleRoot(names: string[]): string {
  if (names.includes(BUNDLE_FILES.manifest)) return "";
  const first = names[0]?.split("/")[0];
  if (first === undefined) return "";
  const prefix = `${first}/`;
  return names.every((n) => n.startsWith(prefix)) && names.includes(`${prefix}${BUNDLE_FILES.manifest}`)
    ? prefix
    : "";
}
