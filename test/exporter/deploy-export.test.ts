import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployBundle } from "../../exporter/deploy/deploy.js";
import { exportBundle } from "../../exporter/export.js";
import { generateKeyFiles } from "../../exporter/keys.js";
import { startPreviewServer } from "../../exporter/preview.js";
import { directoryReader } from "../../exporter/verify/dir-reader.js";
import { urlReader } from "../../exporter/verify/url-reader.js";
import { verifyBundle } from "../../exporter/verify/verify.js";
import { seedMailbox } from "../../fixtures/seed.js";
import { bareRepo, checkoutBranch } from "./deploy-helpers.js";

/** The whole path with real parts: seed → export (signed) → deploy by git push → clone → verify, on disk and over HTTP. */

const root = mkdtempSync(join(tmpdir(), "pigeonhole-deploy-export-"));
let bundle: string;
let publicKey: Uint8Array;

beforeAll(async () => {
  const home = join(root, "home");
  await seedMailbox({ home, messages: 120 });
  mkdirSync(join(root, "keys"));
  const key = await generateKeyFiles(join(root, "keys", "site.key"));
  publicKey = new Uint8Array(Buffer.from(key.publicKey, "base64"));
  bundle = join(root, "bundle");
  await exportBundle({ home, out: bundle, signKeyFile: key.files.secret, chunkSize: 64 * 1024 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("an exported bundle, deployed", () => {
  it("verifies, pinned to its key, from a clone of the branch and served over HTTP", async () => {
    const remote = bareRepo(join(root, "site.git"));
    const result = await deployBundle({ source: bundle, target: { kind: "git", remote } });
    expect(result.status).toBe("created");
    expect(result.bundle.addedNojekyll).toBe(false);
    expect(result.bundle.manifest.counts.messages).toBe(120);

    const site = checkoutBranch(remote, "gh-pages", join(root, "site"));
    const onDisk = await verifyBundle(await directoryReader(site), { publicKey });
    expect(onDisk.problems).toEqual([]);
    const server = await startPreviewServer({ root: site });
    try {
      const overHttp = await verifyBundle(urlReader(server.url), { publicKey });
      expect(overHttp.problems).toEqual([]);
      expect(overHttp.ok).toBe(true);
    } finally {
      await server.close();
    }
  });
});
