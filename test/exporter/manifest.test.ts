import { createHash } from "node:crypto";
import { join } from "node:path";
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import { beforeAll, describe, expect, it } from "vitest";
import {
  BUNDLE_FILES,
  isSafeBundlePath,
  manifestProblems,
  UNLISTED_FILES,
} from "../../exporter/bundle-format.js";
import { exportBundle } from "../../exporter/export.js";
import {
  bundleFiles,
  filesContaining,
  readManifest,
  type SampleMailbox,
  sampleMailbox,
  tempDir,
} from "./helpers.js";

let sample: SampleMailbox;

beforeAll(async () => {
  sample = await sampleMailbox(true);
});

/** Names, subjects, bodies and project keys of the sample mailbox: none may appear in a manifest. */
function privateStrings(): string[] {
  return [
    ...sample.names,
    sample.appSlug,
    sample.otherSlug,
    sample.appDir,
    "Parser refactor plan",
    "Release checklist",
    "tokenizer",
    "Gateway maintenance",
    "notes.md",
  ];
}

describe("manifest", () => {
  it("lists every other file with its size and sha256, sorted by path", async () => {
    const out = join(tempDir(), "bundle");
    await exportBundle({ home: sample.home, out, chunkSize: 64 * 1024, viewerDir: null });
    const manifest = readManifest(out);
    expect(manifestProblems(manifest)).toEqual([]);
    const files = bundleFiles(out);
    const listed = manifest.files.map((f) => f.path);
    expect(listed).toEqual([...files.keys()].filter((p) => !UNLISTED_FILES.has(p)).sort());
    expect(listed).toEqual([...listed].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(listed).toContain(BUNDLE_FILES.readme);
    expect(listed).toContain(BUNDLE_FILES.nojekyll);
    for (const file of manifest.files) {
      const bytes = files.get(file.path)!;
      expect(isSafeBundlePath(file.path)).toBe(true);
      expect(bytes.length, file.path).toBe(file.size);
      expect(createHash("sha256").update(bytes).digest("hex"), file.path).toBe(file.sha256);
    }
    for (const chunk of manifest.database.chunks) expect(manifest.files).toContainEqual(chunk);
    expect(manifest.database.size).toBe(manifest.database.chunks.reduce((n, c) => n + c.size, 0));
    expect(manifest.counts).toEqual({ projects: 2, agents: 5, messages: 6, attachments: 3 });
    expect(manifest.pseudonymized).toBe(false);
  });

  it("reveals no name, subject, body or project key, plain or encrypted", async () => {
    const plain = join(tempDir(), "bundle");
    await exportBundle({ home: sample.home, out: plain, viewerDir: null });
    const manifestOnly = new Map([["manifest.json", bundleFiles(plain).get("manifest.json")!]]);
    for (const text of privateStrings()) expect(filesContaining(manifestOnly, text), text).toEqual([]);

    // Encrypted: no file at all (README, manifest, chunks) shows anything private.
    const encrypted = join(tempDir(), "bundle");
    const recipient = await identityToRecipient(await generateX25519Identity());
    await exportBundle({ home: sample.home, out: encrypted, recipients: [recipient], viewerDir: null });
    const files = bundleFiles(encrypted);
    for (const text of privateStrings()) expect(filesContaining(files, text), text).toEqual([]);
    expect(JSON.stringify(readManifest(encrypted))).not.toContain(recipient);
  });
});
