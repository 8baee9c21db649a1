import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_FILES, chunkPath } from "../../exporter/bundle-format.js";
import { buildViewerMailbox } from "../../fixtures/viewer-mailbox.js";
import { exportWithViewer, testKey } from "./bundles.js";
import {
  launchBrowser,
  type StaticServer,
  serveStatic,
  waitForVerification,
  watchedPage,
} from "./harness.js";

/**
 * The status element in every verification state: verified (with the key's fingerprint, pinned or not),
 * unsigned, and tampered (a flipped byte in a chunk, a missing chunk, an edited manifest, a broken
 * signature file, a wrong or malformed pinned key, a pin on an unsigned bundle), where no data is shown.
 */

let publicKey: string;
let otherKey: string;
let dir: string;
let server: StaticServer;
let browser: Browser;

function fingerprint(key: string): string {
  const hex = createHash("sha256").update(Buffer.from(key, "base64")).digest("hex").slice(0, 16);
  return (hex.match(/.{4}/g) as string[]).join(":");
}

/** Copy the signed bundle to `name` and apply `change` to the copy. */
function variant(name: string, change: (root: string) => void): void {
  cpSync(join(dir, "signed"), join(dir, name), { recursive: true });
  change(join(dir, name));
}

/** Open `/<name>/` with an optional fragment; returns the status text once it shows `state`. */
async function open(name: string, state: string, fragment = "") {
  const watched = await watchedPage(browser, [server.origin]);
  await watched.page.goto(`${server.origin}/${name}/${fragment}`);
  const text = await waitForVerification(watched.page, state);
  return { ...watched, text };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "viewer-verify-"));
  const home = join(dir, "home");
  buildViewerMailbox({ home, messages: 300 });
  const key = await testKey(dir, 5);
  publicKey = key.publicKey;
  otherKey = (await testKey(dir, 9)).publicKey;
  // The smallest chunks, so the database spans several of them.
  await exportWithViewer(home, join(dir, "signed"), { signKeyFile: key.file, chunkSize: 64 * 1024 });
  await exportWithViewer(home, join(dir, "unsigned"), { chunkSize: 64 * 1024 });
  variant("flipped", (root) => {
    const file = join(root, chunkPath(1));
    const bytes = readFileSync(file);
    bytes[100] = (bytes[100] as number) ^ 0x01;
    writeFileSync(file, bytes);
  });
  variant("missing-chunk", (root) => unlinkSync(join(root, chunkPath(2))));
  variant("edited-manifest", (root) => {
    const file = join(root, BUNDLE_FILES.manifest);
    writeFileSync(
      file,
      readFileSync(file, "utf8").replace(/"messages": (\d+)/, (_, n) => `"messages": ${Number(n) + 1}`),
    );
  });
  variant("broken-signature", (root) => writeFileSync(join(root, BUNDLE_FILES.signature), "{ not json"));
  // The "slow" copy answers database chunks late, so the progress display can be seen.
  cpSync(join(dir, "signed"), join(dir, "slow"), { recursive: true });
  server = await serveStatic({ "/": dir }, (path) => (path.startsWith("/slow/db/") ? 700 : 0));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("verification states", () => {
  it("verified: shows the signing key's fingerprint and says no key is pinned", async () => {
    const { page, text, foreign, close } = await open("signed", "verified");
    expect(text).toContain(`signed by ${fingerprint(publicKey)}`);
    expect(text).toContain("no key pinned");
    await page.locator(".stats").waitFor();
    expect(foreign).toEqual([]);
    await close();
  });

  it("verified against a key pinned in the link (standard or URL-safe base64), kept in every link", async () => {
    const pinned = await open("signed", "verified", `#key=${encodeURIComponent(publicKey)}`);
    expect(pinned.text).toContain(`signed by ${fingerprint(publicKey)}`);
    expect(pinned.text).toContain("matches the key pinned in the link");
    const link = await pinned.page.locator("table.projects a").first().getAttribute("href");
    expect(link).toContain(`key=${encodeURIComponent(publicKey)}`);
    await pinned.close();
    const urlSafe = publicKey.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const deep = await open("signed", "verified", `#/search?q=report&key=${urlSafe}`);
    expect(deep.text).toContain("matches the key pinned in the link");
    await deep.close();
  });

  it("shows progress while downloading, and a reload reads the database from the browser's cache", async () => {
    const watched = await watchedPage(browser, [server.origin]);
    const { page } = watched;
    await page.goto(`${server.origin}/slow/`);
    const progress = page.locator("main .progress", { hasText: "Downloading the database" });
    await progress.waitFor();
    await expect(progress.textContent()).resolves.toMatch(
      /Downloading the database — [\d.]+ \w?B of [\d.]+ \wB/,
    );
    await expect(page.locator("main .progress progress").getAttribute("max")).resolves.toMatch(/^\d+$/);
    await waitForVerification(page, "verified");
    const chunkRequests = () => server.requests.filter((p) => p.startsWith("/slow/db/")).length;
    const before = chunkRequests();
    expect(before).toBeGreaterThan(1);
    await page.reload();
    await waitForVerification(page, "verified");
    await page.locator(".stats").waitFor();
    expect(chunkRequests()).toBe(before);
    await watched.close();
  });

  it("unsigned: every file checks out but nobody vouches for it", async () => {
    const { page, text, close } = await open("unsigned", "unsigned");
    expect(text).toMatch(/Unsigned/);
    await page.locator(".stats").waitFor();
    await close();
  });

  const tampered: [string, string, string, RegExp][] = [
    ["a byte flipped in a chunk", "flipped", "", new RegExp(`${chunkPath(1)} does not match its sha256`)],
    ["a chunk deleted", "missing-chunk", "", new RegExp(`${chunkPath(2)} is missing`)],
    ["a manifest edited after signing", "edited-manifest", "", /signature does not match manifest\.json/],
    ["a signature file that is not JSON", "broken-signature", "", /manifest\.sig\.json is not valid JSON/],
    ["a pinned key that did not sign it", "signed", "#key=OTHER", /not by the key pinned in the link/],
    [
      "a pinned key on an unsigned bundle",
      "unsigned",
      "#key=KEY",
      /pins signing key .* but the bundle is unsigned/,
    ],
    ["a malformed pinned key", "signed", "#key=not-a-key", /not a base64 Ed25519 public key/],
  ];
  for (const [what, name, fragment, problem] of tampered) {
    it(`tampered: ${what} — says what failed and shows no data`, async () => {
      const hash = fragment
        .replace("OTHER", encodeURIComponent(otherKey))
        .replace("KEY", encodeURIComponent(publicKey));
      const { page, text, foreign, close } = await open(name, "tampered", hash);
      expect(text).toMatch(problem);
      expect(text).toContain("not shown");
      await expect(page.locator("main [data-message-id], main .stats, main table").count()).resolves.toBe(0);
      await expect(page.locator("#search").isDisabled()).resolves.toBe(true);
      expect(foreign).toEqual([]);
      await close();
    });
  }
});
