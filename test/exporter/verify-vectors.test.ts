import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { base64ToBytes } from "../../exporter/base64.js";
import { type Manifest, publicKeyFingerprint } from "../../exporter/bundle-format.js";
import { startPreviewServer } from "../../exporter/preview.js";
import { directoryReader } from "../../exporter/verify/dir-reader.js";
import type { BundleReader } from "../../exporter/verify/reader.js";
import { urlReader } from "../../exporter/verify/url-reader.js";
import { verifyBundle } from "../../exporter/verify/verify.js";
import { zipReader } from "../../exporter/verify/zip-reader.js";
import type { BundleVector } from "../../fixtures/bundle-vectors.js";
import { killAll, runCli } from "../server/cli-process.js";
import { vectorWorkspace, zipDirectory } from "./bundles.js";

/**
 * Every bundle vector through every reader (directory, zip, URL) and through the CLI: each must reach
 * the outcome the vector states, naming exactly the files it says are bad.
 */

let ws: Awaited<ReturnType<typeof vectorWorkspace>>;
beforeAll(async () => {
  ws = await vectorWorkspace("verify-vectors");
});
afterAll(() => ws?.cleanup());
afterEach(killAll);

const NAMES = [
  "good-signed",
  "good-unsigned",
  "tampered-manifest",
  "tampered-chunk",
  "truncated-chunk",
  "wrong-key",
  "extra-unlisted-file",
  "missing-file",
  "encrypted-x25519",
  "encrypted-passphrase",
];

function options(vector: BundleVector) {
  return vector.verify.publicKey ? { publicKey: base64ToBytes(vector.verify.publicKey) as Uint8Array } : {};
}

/** Over a URL nothing can be listed: a vector whose only problem is an unlisted file verifies there. */
function expectedPaths(vector: BundleVector, mode: "dir" | "zip" | "url"): string[] {
  if (mode !== "url") return [...vector.expect.problemPaths].sort();
  const manifest = JSON.parse(readFileSync(join(vector.dir, "manifest.json"), "utf8")) as Manifest;
  const listed = new Set(["manifest.json", "manifest.sig.json", ...manifest.files.map((f) => f.path)]);
  return vector.expect.problemPaths.filter((p) => listed.has(p)).sort();
}

async function withReader<T>(
  vector: BundleVector,
  mode: "dir" | "zip" | "url",
  use: (r: BundleReader) => Promise<T>,
) {
  if (mode === "dir") return use(await directoryReader(vector.dir));
  if (mode === "zip") return use(zipReader(zipDirectory(vector.dir), `${vector.name}.zip`));
  const server = await startPreviewServer({ root: vector.dir });
  try {
    return await use(urlReader(server.url));
  } finally {
    await server.close();
  }
}

describe("bundle vectors", () => {
  it("cover every named case", () => {
    expect(ws.vectors.vectors.map((v) => v.name)).toEqual(NAMES);
    // The signed vectors span several chunks, so per-chunk failures are distinguishable.
    const manifest = JSON.parse(
      readFileSync(join(ws.vector("good-signed").dir, "manifest.json"), "utf8"),
    ) as Manifest;
    expect(manifest.database.chunks.length).toBeGreaterThanOrEqual(3);
  });

  for (const mode of ["dir", "zip", "url"] as const) {
    it.each(NAMES)(`verifyBundle over a ${mode}: %s`, async (name) => {
      const vector = ws.vector(name);
      const result = await withReader(vector, mode, (reader) => verifyBundle(reader, options(vector)));
      const paths = expectedPaths(vector, mode);
      expect(
        [...new Set(result.problems.map((p) => p.path))].sort(),
        JSON.stringify(result.problems),
      ).toEqual(paths);
      expect(result.ok).toBe(paths.length === 0);
      expect(result.signed).toBe(vector.expect.signed);
      expect(result.unlisted_checked).toBe(mode !== "url");
      expect(result.files_checked).toBeGreaterThan(0);
      if (vector.expect.signed) {
        const signature = JSON.parse(readFileSync(join(vector.dir, "manifest.sig.json"), "utf8"));
        expect(result.key_fingerprint).toBe(
          await publicKeyFingerprint(base64ToBytes(signature.public_key) as Uint8Array),
        );
        // Signed at generated_at, whenever the minisign file could be checked (not under a wrong pin).
        if (result.ok) expect(result.signed_at).toBe(signature.generated_at);
      } else {
        expect(result.signed_at).toBeNull();
      }
    });
  }

  it.each(NAMES)("pigeonhole verify --json: %s", async (name) => {
    const vector = ws.vector(name);
    const args = ["verify", vector.dir, "--json"];
    if (vector.verify.publicKey) args.push("--public-key", vector.verify.publicKey);
    const run = await runCli(args);
    expect(run.code, run.stderr).toBe(vector.expect.ok ? 0 : 1);
    const report = JSON.parse(run.stdout);
    expect(Object.keys(report).sort()).toEqual(
      [
        "files_checked",
        "key_fingerprint",
        "ok",
        "pinned",
        "problems",
        "signed",
        "signed_at",
        "unlisted_checked",
      ].sort(),
    );
    expect(report.ok).toBe(vector.expect.ok);
    expect(report.pinned).toBe(vector.verify.publicKey !== undefined);
    expect([...new Set(report.problems.map((p: { path: string }) => p.path))].sort()).toEqual(
      [...vector.expect.problemPaths].sort(),
    );
    if (!vector.expect.ok) expect(run.stderr).toMatch(/^error: bundle verification failed/);
  });

  it("an unsigned bundle passes with --allow-unsigned, but never when a key is pinned", async () => {
    const dir = ws.vector("good-unsigned").dir;
    const allowed = await runCli(["verify", dir, "--allow-unsigned"]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/^verified: .*\n {2}unsigned\n/);
    const pinned = await runCli([
      "verify",
      dir,
      "--allow-unsigned",
      "--public-key",
      ws.vectors.keys.signing.publicKey,
    ]);
    expect(pinned.code).toBe(1);
    expect(pinned.stdout).toContain(
      "manifest.sig.json: missing: the bundle is unsigned, but a key is pinned",
    );
    const plain = await runCli(["verify", dir]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain("unsigned");
  });

  it("says unpinned unless a key is pinned, and accepts the key from FILE.pub or FILE.minisign.pub", async () => {
    const dir = ws.vector("good-signed").dir;
    const fingerprint = await publicKeyFingerprint(
      base64ToBytes(ws.vectors.keys.signing.publicKey) as Uint8Array,
    );
    const unpinned = await runCli(["verify", dir]);
    expect(unpinned.code, unpinned.stderr).toBe(0);
    expect(unpinned.stdout).toContain(`signed by key ${fingerprint}, unpinned`);
    for (const file of [
      `${ws.vectors.keys.signing.file}.pub`,
      `${ws.vectors.keys.signing.file}.minisign.pub`,
    ]) {
      const run = await runCli(["verify", dir, "--public-key-file", file]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toContain(`signed by key ${fingerprint}, pinned`);
    }
    const wrong = await runCli(["verify", dir, "--public-key-file", `${ws.vectors.keys.other.file}.pub`]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/manifest\.sig\.json: signed by key .*, not by the pinned key/);
  });

  it("rejects a malformed pinned key with one line", async () => {
    const run = await runCli(["verify", ws.vector("good-signed").dir, "--public-key", "not-a-key"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: --public-key is not an Ed25519 public key/);
    const both = await runCli(["verify", ".", "--public-key", "x", "--public-key-file", "y"]);
    expect(both.stderr).toMatch(/not both/);
  });

  it("verifies a zip file and a URL from the command line; a URL run says unlisted files were not looked for", async () => {
    const zipPath = join(ws.root, "good.zip");
    writeFileSync(zipPath, zipDirectory(ws.vector("good-signed").dir, "bundle/"));
    const zip = await runCli(["verify", zipPath, "--public-key", ws.vectors.keys.signing.publicKey]);
    expect(zip.code, zip.stdout + zip.stderr).toBe(0);
    const server = await startPreviewServer({ root: ws.vector("good-signed").dir });
    try {
      const url = await runCli(["verify", `${server.url}index.html`]);
      expect(url.code, url.stdout + url.stderr).toBe(0);
      expect(url.stdout).toContain("unlisted files were not looked for");
    } finally {
      await server.close();
    }
  });

  it("names a missing bundle path with a hint", async () => {
    const run = await runCli(["verify", join(ws.root, "nope")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: No bundle at .*directory, a bundle \.zip or an http\(s\) URL/);
  });
});
