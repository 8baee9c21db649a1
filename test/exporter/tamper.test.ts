import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { base64ToBytes } from "../../exporter/base64.js";
import { chunkPath, type Manifest } from "../../exporter/bundle-format.js";
import { directoryReader } from "../../exporter/verify/dir-reader.js";
import { type VerifyOptions, verifyBundle } from "../../exporter/verify/verify.js";
import { appendBytes, VECTOR_ATTACHMENT_PATH } from "../../fixtures/bundle-vectors.js";
import { killAll, runCli } from "../server/cli-process.js";
import { vectorWorkspace } from "./bundles.js";

/**
 * The tamper matrix: starting from a good signed bundle, change one thing (a flipped byte in each kind
 * of file, a deleted listed file, an added unlisted one, a symbolic link, a wrong pinned key). Verify must
 * fail and name exactly the changed file.
 */

let ws: Awaited<ReturnType<typeof vectorWorkspace>>;
let manifest: Manifest;
beforeAll(async () => {
  ws = await vectorWorkspace("tamper");
  manifest = JSON.parse(readFileSync(join(ws.vector("good-signed").dir, "manifest.json"), "utf8"));
});
afterAll(() => ws?.cleanup());
afterEach(killAll);

async function problemsAfter(change: (dir: string) => void, options: VerifyOptions = {}) {
  const dir = ws.copy("good-signed");
  change(dir);
  const result = await verifyBundle(await directoryReader(dir), options);
  expect(result.ok).toBe(false);
  return result.problems;
}

function flipSync(full: string, offset: number) {
  const bytes = readFileSync(full);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
  writeFileSync(full, bytes);
}

describe("tamper matrix", () => {
  it("the untouched bundle verifies (the baseline of every case)", async () => {
    const result = await verifyBundle(await directoryReader(ws.copy("good-signed")));
    expect(result.problems).toEqual([]);
  });

  const flipped = () => [
    "index.html",
    "_astro/app.js",
    "README.md",
    VECTOR_ATTACHMENT_PATH,
    ...manifest.database.chunks.map((c) => c.path),
  ];

  it("a flipped byte in manifest.json names it first (then any entry the change now contradicts)", async () => {
    for (const offset of [10, 200, 400]) {
      const problems = await problemsAfter((dir) => flipSync(join(dir, "manifest.json"), offset));
      expect(problems[0]?.path, String(offset)).toBe("manifest.json");
    }
  });

  it("a flipped byte in any listed file (each chunk, viewer files, an attachment) names that file", async () => {
    expect(manifest.database.chunks.length).toBeGreaterThanOrEqual(3);
    for (const path of flipped()) {
      const problems = await problemsAfter((dir) => {
        const full = join(dir, path);
        flipSync(full, Math.floor(readFileSync(full).length / 2));
      });
      expect(
        problems.map((p) => p.path),
        path,
      ).toEqual([path]);
    }
  });

  it("a byte appended to an empty listed file (.nojekyll) names it", async () => {
    const problems = await problemsAfter((dir) => writeFileSync(join(dir, ".nojekyll"), "x"));
    expect(problems).toEqual([{ path: ".nojekyll", problem: "larger than its listed 0 bytes" }]);
  });

  it("a flipped byte in the signature, its manifest_sha256 or its public key names manifest.sig.json", async () => {
    for (const field of ["signature", "manifest_sha256", "public_key"]) {
      const problems = await problemsAfter((dir) => {
        const full = join(dir, "manifest.sig.json");
        const text = readFileSync(full, "utf8");
        flipSync(full, text.indexOf(`"${field}": "`) + field.length + 8);
      });
      expect(
        problems.map((p) => p.path),
        field,
      ).toContain("manifest.sig.json");
      expect(
        problems.every((p) => p.path.startsWith("manifest.")),
        field,
      ).toBe(true);
    }
  });

  it("a flipped byte in the minisign signature names manifest.json.minisig", async () => {
    const problems = await problemsAfter((dir) => {
      const full = join(dir, "manifest.json.minisig");
      const lines = readFileSync(full, "utf8").split("\n");
      flipSync(full, (lines[0] as string).length + 1 + 40);
    });
    expect(problems.map((p) => p.path)).toEqual(["manifest.json.minisig"]);
  });

  it("a deleted listed file is named as missing, for every kind", async () => {
    for (const path of [...flipped(), ".nojekyll", "manifest.json.minisig"]) {
      const problems = await problemsAfter((dir) => rmSync(join(dir, path)));
      expect(
        problems.map((p) => [p.path, p.problem]),
        path,
      ).toEqual([[path, expect.stringMatching(/^missing/)]]);
    }
  });

  it("an added unlisted file is named, at the root or deep inside", async () => {
    for (const path of ["extra.html", chunkPath(99), "attachments/zz/evil.svg", "_astro/extra.js"]) {
      const problems = await problemsAfter((dir) => {
        mkdirSync(join(dir, path, ".."), { recursive: true });
        writeFileSync(join(dir, path), "<script>alert(1)</script>");
      });
      expect(problems).toEqual([{ path, problem: "unlisted: not in the manifest" }]);
    }
  });

  it("a listed file replaced by a symbolic link to identical bytes is refused", async () => {
    const problems = await problemsAfter((dir) => {
      const outside = join(ws.root, "outside-index.html");
      writeFileSync(outside, readFileSync(join(dir, "index.html")));
      rmSync(join(dir, "index.html"));
      symlinkSync(outside, join(dir, "index.html"));
    });
    expect(problems).toEqual([{ path: "index.html", problem: expect.stringMatching(/symbolic link/) }]);
  });

  it("a wrong pinned key fails even though the signature itself is valid", async () => {
    const problems = await problemsAfter(() => {}, {
      publicKey: base64ToBytes(ws.vectors.keys.other.publicKey) as Uint8Array,
    });
    expect(problems).toEqual([
      { path: "manifest.sig.json", problem: expect.stringMatching(/not by the pinned key/) },
    ]);
  });

  it("pigeonhole verify prints each bad file on its own line and exits 1", async () => {
    const dir = ws.copy("good-signed");
    flipSync(join(dir, chunkPath(0)), 200);
    rmSync(join(dir, "_astro/app.js"));
    await appendBytes(join(dir, "README.md"), "more");
    writeFileSync(join(dir, "stray.txt"), "stray");
    const run = await runCli(["verify", dir]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAILED: /);
    expect(run.stdout).toContain(`  ${chunkPath(0)}: sha256 does not match the manifest`);
    expect(run.stdout).toContain("  _astro/app.js: missing");
    expect(run.stdout).toContain("  README.md: larger than its listed");
    expect(run.stdout).toContain("  stray.txt: unlisted");
    expect(run.stderr).toBe("error: bundle verification failed: 4 problems (listed on stdout).\n");
  });
});
