import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { exportBundle, type ProgressEvent } from "../../exporter/export.js";
import {
  createStaging,
  leftoverStaging,
  removeStaging,
  removeStagingSync,
} from "../../exporter/pipeline/staging.js";
import { readManifest, type SampleMailbox, sampleMailbox, tempDir } from "./helpers.js";

/** Publication: refusal of a non-empty --out, --force swaps, and a failed export leaves nothing. */

let sample: SampleMailbox;

beforeAll(async () => {
  sample = await sampleMailbox(true);
});

function oldContent(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "old.txt"), "someone's files");
  return dir;
}

/** A directory that looks like a previous bundle (it holds a manifest.json). */
function oldBundle(dir: string): string {
  oldContent(dir);
  writeFileSync(join(dir, "manifest.json"), "{}");
  return dir;
}

/** Nothing in `parent` but what was there before: no staging directory, no half bundle. */
async function expectClean(out: string): Promise<void> {
  expect(await leftoverStaging(out)).toEqual([]);
}

describe("publishing", () => {
  it("refuses a non-empty --out without --force and leaves it untouched", async () => {
    const out = oldContent(join(tempDir(), "bundle"));
    await expect(exportBundle({ home: sample.home, out, viewerDir: null })).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect(readdirSync(out)).toEqual(["old.txt"]);
    await expectClean(out);
  });

  it("refuses an existing file as --out: as a directory always, as a zip without --force", async () => {
    const out = join(tempDir(), "bundle.zip");
    writeFileSync(out, "an old zip");
    for (const zip of [false, true]) {
      await expect(exportBundle({ home: sample.home, out, zip, viewerDir: null })).rejects.toMatchObject({
        code: "CONFLICT",
      });
    }
    expect(readFileSync(out, "utf8")).toBe("an old zip");
    await exportBundle({ home: sample.home, out, zip: true, force: true, viewerDir: null });
    expect(readFileSync(out).subarray(0, 2).toString("latin1")).toBe("PK");
  });

  it("fills an empty --out directory, and creates missing parents", async () => {
    const empty = join(tempDir(), "empty");
    mkdirSync(empty);
    await exportBundle({ home: sample.home, out: empty, viewerDir: null });
    expect(readManifest(empty).counts.messages).toBe(6);
    const nested = join(tempDir(), "a", "b", "bundle");
    await exportBundle({ home: sample.home, out: nested, viewerDir: null });
    expect(existsSync(join(nested, "manifest.json"))).toBe(true);
  });

  it("--force replaces a previous bundle with the new one", async () => {
    const out = oldBundle(join(tempDir(), "bundle"));
    await exportBundle({ home: sample.home, out, force: true, viewerDir: null });
    expect(existsSync(join(out, "old.txt"))).toBe(false);
    expect(readManifest(out).counts.messages).toBe(6);
    await expectClean(out);
  });

  for (const stage of ["scrub", "finalize", "chunk", "write", "publish"] as const) {
    it(`a failure in ${stage} leaves no --out and no staging directory`, async () => {
      const out = join(tempDir(), "bundle");
      const onProgress = (event: ProgressEvent) => {
        if (event.stage === stage && event.phase === "start") throw new Error(`injected failure in ${stage}`);
      };
      await expect(exportBundle({ home: sample.home, out, onProgress, viewerDir: null })).rejects.toThrow(
        `injected failure in ${stage}`,
      );
      expect(existsSync(out)).toBe(false);
      await expectClean(out);
    });
  }

  it("a failure with --force keeps the previous bundle", async () => {
    const out = oldBundle(join(tempDir(), "bundle"));
    const onProgress = (event: ProgressEvent) => {
      if (event.stage === "publish" && event.phase === "start") throw new Error("injected");
    };
    await expect(
      exportBundle({ home: sample.home, out, force: true, onProgress, viewerDir: null }),
    ).rejects.toThrow("injected");
    expect(readdirSync(out).sort()).toEqual(["manifest.json", "old.txt"]);
    await expectClean(out);
  });

  it("an aborted export stops and cleans up", async () => {
    const out = join(tempDir(), "bundle");
    const controller = new AbortController();
    const onProgress = (event: ProgressEvent) => {
      if (event.stage === "scope" && event.phase === "end") controller.abort(new Error("stop"));
    };
    await expect(
      exportBundle({ home: sample.home, out, onProgress, signal: controller.signal, viewerDir: null }),
    ).rejects.toThrow("stop");
    expect(existsSync(out)).toBe(false);
    await expectClean(out);
  });
});

describe("staging cleanup", () => {
  it("puts the old content back when a --force swap was cut between its two renames", async () => {
    const out = join(tempDir(), "bundle");
    const staging = await createStaging(out);
    oldContent(join(staging.root, "previous"));
    await removeStaging(staging, out);
    expect(readdirSync(out)).toEqual(["old.txt"]);
    expect(existsSync(staging.root)).toBe(false);

    const out2 = join(tempDir(), "bundle");
    const again = await createStaging(out2);
    oldContent(join(again.root, "previous"));
    removeStagingSync(again, out2);
    expect(readdirSync(out2)).toEqual(["old.txt"]);
    expect(existsSync(again.root)).toBe(false);
  });
});

describe("options refused before any work", () => {
  const refusals: [string, Record<string, unknown>, string][] = [
    ["a recipient that is not an age X25519 key", { recipients: ["age1notakey"] }, "INVALID_ARGUMENT"],
    [
      "an SSH key as recipient",
      { recipients: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample"] },
      "INVALID_ARGUMENT",
    ],
    [
      "a recipient and a passphrase",
      { recipients: ["age1x"], passphraseFile: "/nonexistent" },
      "INVALID_ARGUMENT",
    ],
    ["a missing passphrase file", { passphraseFile: "/nonexistent/pass" }, "NOT_FOUND"],
    ["a chunk size under 64 KiB", { chunkSize: 65535 }, "INVALID_ARGUMENT"],
    ["a fractional chunk size", { chunkSize: 100000.5 }, "INVALID_ARGUMENT"],
    ["an unknown preset", { scrub: "lossy" }, "INVALID_ARGUMENT"],
    ["a signing key that cannot be loaded", { signKeyFile: "/nonexistent/key" }, ""],
  ];
  for (const [what, options, code] of refusals) {
    it(`refuses ${what}`, async () => {
      const out = join(tempDir(), "bundle");
      const error = await exportBundle({ home: sample.home, out, viewerDir: null, ...options }).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(Error);
      if (code) expect(error.code).toBe(code);
      expect(existsSync(out)).toBe(false);
      await expectClean(out);
    });
  }

  it("refuses an --out that is or contains the mailbox, even with --force", async () => {
    for (const out of [sample.home, join(sample.home, "..")]) {
      await expect(
        exportBundle({ home: sample.home, out, force: true, viewerDir: null }),
      ).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
      });
    }
    expect(existsSync(join(sample.home, "mailbox.sqlite3"))).toBe(true);
  });

  it("refuses a home without a mailbox", async () => {
    const dir = tempDir();
    const out = join(dir, "bundle");
    await expect(exportBundle({ home: join(dir, "nohome"), out, viewerDir: null })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect(existsSync(out)).toBe(false);
    await expectClean(out);
  });
});
