import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import fc from "fast-check";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { base64ToBytes } from "../../exporter/base64.js";
import type { BundleReader } from "../../exporter/verify/reader.js";
import { verifyBundle } from "../../exporter/verify/verify.js";
import { zipReader } from "../../exporter/verify/zip-reader.js";
import { vectorWorkspace } from "../exporter/bundles.js";

/**
 * Random corruptions of a good bundle (the bundle vectors' signed ones, plain and encrypted) are always
 * detected by verify, read from memory as a directory would be and from a zip: flipped bytes anywhere,
 * truncated, extended, deleted, swapped and added files, alone or several at once. The only changes
 * allowed to pass are those no signature covers and nothing reads: see `unsignedChangesOnly`.
 */

type Files = Map<string, Uint8Array>;

let ws: Awaited<ReturnType<typeof vectorWorkspace>>;
const bundles: { name: string; files: Files; publicKey: Uint8Array }[] = [];

function readBundle(dir: string): Files {
  const files: Files = new Map();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(relative(dir, full).split(sep).join("/"), new Uint8Array(readFileSync(full)));
  }
  return files;
}

beforeAll(async () => {
  ws = await vectorWorkspace("prop-corrupt");
  for (const name of ["good-signed", "encrypted-x25519", "encrypted-passphrase"]) {
    const vector = ws.vector(name);
    bundles.push({
      name,
      files: readBundle(vector.dir),
      publicKey: base64ToBytes(ws.vectors.keys.signing.publicKey) as Uint8Array,
    });
  }
});
afterAll(() => ws?.cleanup());

/** A reader over files in memory, listing them as a directory reader would. */
function memoryReader(files: Files): BundleReader {
  return {
    source: "memory",
    list: async () => [...files.keys()],
    read: async (path, limit) => files.get(path)?.slice(0, limit + 1) ?? null,
    close: async () => {},
  };
}

type Corruption =
  | { kind: "flip"; file: number; offset: number; mask: number }
  | { kind: "truncate"; file: number; keep: number }
  | { kind: "append"; file: number; bytes: Uint8Array }
  | { kind: "delete"; file: number }
  | { kind: "swap"; file: number; other: number }
  | { kind: "add"; path: string; bytes: Uint8Array };

const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("flip" as const),
      file: fc.nat(),
      offset: fc.nat(),
      mask: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("truncate" as const), file: fc.nat(), keep: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("append" as const),
      file: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), file: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("swap" as const), file: fc.nat(), other: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      path: fc.constantFrom(
        "extra.txt",
        "db/chunk-99999",
        "attachments/zz/extra.bin",
        "_astro/x.js",
        "index.htm",
      ),
      bytes: fc.uint8Array({ maxLength: 8 }),
    }),
  },
);

/** Apply `c` to a copy of `files`; returns undefined when it changes nothing (a swap of equal files). */
function corrupt(files: Files, c: Corruption): Files | undefined {
  const out: Files = new Map(files);
  const paths = [...files.keys()].sort();
  const pick = (n: number) => paths[n % paths.length] as string;
  switch (c.kind) {
    case "flip": {
      const path = pick(c.file);
      const bytes = (files.get(path) as Uint8Array).slice();
      if (bytes.length === 0) return undefined;
      const at = c.offset % bytes.length;
      bytes[at] = (bytes[at] as number) ^ c.mask;
      out.set(path, bytes);
      return out;
    }
    case "truncate": {
      const path = pick(c.file);
      const bytes = files.get(path) as Uint8Array;
      if (bytes.length === 0) return undefined;
      out.set(path, bytes.slice(0, c.keep % bytes.length));
      return out;
    }
    case "append": {
      const path = pick(c.file);
      const bytes = files.get(path) as Uint8Array;
      const longer = new Uint8Array(bytes.length + c.bytes.length);
      longer.set(bytes);
      longer.set(c.bytes, bytes.length);
      out.set(path, longer);
      return out;
    }
    case "delete":
      out.delete(pick(c.file));
      return out;
    case "swap": {
      const a = pick(c.file);
      const b = pick(c.other);
      const x = files.get(a) as Uint8Array;
      const y = files.get(b) as Uint8Array;
      if (a === b || Buffer.from(x).equals(Buffer.from(y))) return undefined;
      out.set(a, y);
      out.set(b, x);
      return out;
    }
    case "add":
      if (files.has(c.path)) return undefined;
      out.set(c.path, c.bytes);
      return out;
  }
}

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);
const base64 = (value: unknown) =>
  typeof value === "string" ? Buffer.from(value, "base64").toString("hex") : value;

/**
 * manifest.sig.json as what it says, with base64 decoded and `generated_at` as the whole second it names:
 * verify compares it with the signed minisign timestamp, which counts whole seconds.
 */
function signatureMeaning(bytes: Uint8Array | undefined): string | undefined {
  try {
    const sig = JSON.parse(text(bytes)) as Record<string, unknown>;
    const at = typeof sig.generated_at === "string" ? Date.parse(sig.generated_at) : Number.NaN;
    return JSON.stringify([
      sig.algorithm,
      base64(sig.signature),
      sig.manifest_sha256,
      base64(sig.public_key),
      Number.isNaN(at) ? null : Math.floor(at / 1000),
    ]);
  } catch {
    return undefined;
  }
}

/** manifest.json.minisig as what it says: minisign's untrusted comment is, by design, unsigned. */
function minisignMeaning(bytes: Uint8Array | undefined): string {
  const lines = text(bytes).split("\n");
  return JSON.stringify([
    lines[0]?.startsWith("untrusted comment: "),
    base64(lines[1]),
    lines[2],
    base64(lines[3]),
    lines.slice(4),
  ]);
}

/**
 * True when the corrupted bundle differs from the original only where no signature reaches and verify
 * does not look: the milliseconds of manifest.sig.json's `generated_at` (verify checks its second against
 * the signed timestamp), minisign's untrusted comment, JSON whitespace of the signature file, and the
 * unused low bits of a base64 group.
 */
function unsignedChangesOnly(original: Files, corrupted: Files): boolean {
  const paths = new Set([...original.keys(), ...corrupted.keys()]);
  for (const path of paths) {
    const a = original.get(path);
    const b = corrupted.get(path);
    if (a && b && Buffer.from(a).equals(Buffer.from(b))) continue;
    if (path === "manifest.sig.json" && a && b) {
      const meaning = signatureMeaning(b);
      if (meaning !== undefined && meaning === signatureMeaning(a)) continue;
    }
    if (path === "manifest.json.minisig" && a && b && minisignMeaning(a) === minisignMeaning(b)) continue;
    return false;
  }
  return true;
}

function zipOf(files: Files): Uint8Array {
  return zipSync(Object.fromEntries(files));
}

describe("random corruptions of a signed bundle", () => {
  it("the unchanged bundles verify, from memory and from a zip", async () => {
    for (const b of bundles) {
      expect(
        (await verifyBundle(memoryReader(b.files), { publicKey: b.publicKey })).problems,
        b.name,
      ).toEqual([]);
      const zipped = await verifyBundle(zipReader(zipOf(b.files), `${b.name}.zip`), {
        publicKey: b.publicKey,
      });
      expect(zipped.problems, b.name).toEqual([]);
    }
  });

  it("are always detected", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 2 }),
        fc.array(corruption, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        async (which, corruptions, asZip) => {
          const b = bundles[which % bundles.length]!;
          let files: Files | undefined = b.files;
          for (const c of corruptions) files = files && corrupt(files, c);
          fc.pre(files !== undefined && !unsignedChangesOnly(b.files, files));
          const reader = asZip
            ? zipReader(zipOf(files as Files), "corrupt.zip")
            : memoryReader(files as Files);
          const result = await verifyBundle(reader, { publicKey: b.publicKey });
          expect(result.ok, `${b.name} ${JSON.stringify(corruptions)}`).toBe(false);
          expect(result.problems.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 150) },
    );
  });
});
