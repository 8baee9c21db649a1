import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { zipSync } from "fflate";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunkPath } from "../../exporter/bundle-format.js";
import { buildViewerMailbox, type ViewerMailboxSummary } from "../../fixtures/viewer-mailbox.js";
import { exportWithViewer, testKey, VIEWER_DIST } from "./bundles.js";
import {
  launchBrowser,
  type StaticServer,
  serveStatic,
  waitForVerification,
  watchedPage,
} from "./harness.js";

/**
 * One hosted copy of the viewer opening other bundles: a zip chosen with the file input or dropped on
 * the page, a zip or a bundle directory named with `?bundle=`. Everything is read and checked in the
 * browser; a damaged zip is refused.
 */

let dir: string;
let mailbox: ViewerMailboxSummary;
let server: StaticServer;
let browser: Browser;

/** Zip `root` with every path under `prefix` (a zip of the bundle folder, as people make them). */
function zipDir(root: string, prefix: string): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const full = join(at, name);
      if (statSync(full).isDirectory()) walk(full);
      else files[prefix + relative(root, full).split(sep).join("/")] = readFileSync(full);
    }
  };
  walk(root);
  return zipSync(files);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "viewer-zip-"));
  const home = join(dir, "home");
  mailbox = buildViewerMailbox({ home, messages: 60 });
  const key = await testKey(dir, 2);
  await exportWithViewer(home, join(dir, "bundles", "signed"), { signKeyFile: key.file });
  mkdirSync(join(dir, "files"));
  writeFileSync(join(dir, "files", "bundle.zip"), zipDir(join(dir, "bundles", "signed"), "signed/"));
  cpSync(join(dir, "bundles", "signed"), join(dir, "flipped"), { recursive: true });
  const chunk = join(dir, "flipped", chunkPath(0));
  const bytes = readFileSync(chunk);
  bytes[2000] = (bytes[2000] as number) ^ 0x10;
  writeFileSync(chunk, bytes);
  writeFileSync(join(dir, "files", "flipped.zip"), zipDir(join(dir, "flipped"), ""));
  writeFileSync(join(dir, "files", "not-a-zip.zip"), "this is not a zip file");
  cpSync(VIEWER_DIST, join(dir, "viewer"), { recursive: true });
  server = await serveStatic({
    "/viewer/": join(dir, "viewer"),
    "/files/": join(dir, "files"),
    "/bundles/": join(dir, "bundles"),
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a viewer hosted on its own", () => {
  it("without a bundle offers to open one", async () => {
    const { page, foreign, close } = await watchedPage(browser, [server.origin]);
    await page.goto(`${server.origin}/viewer/`);
    await waitForVerification(page, "none");
    await page.locator("#bundle-file").waitFor();
    expect(foreign).toEqual([]);
    await close();
  });

  it("opens a zip chosen with the file input, attachments included", async () => {
    const { page, foreign, dialogs, close } = await watchedPage(browser, [server.origin]);
    await page.goto(`${server.origin}/viewer/#/message/${mailbox.fileMessageId}`);
    await page.locator("#bundle-file").setInputFiles(join(dir, "files", "bundle.zip"));
    const status = await waitForVerification(page, "verified");
    expect(status).toContain("signed by");
    const link = page.locator(`article[data-message-id="${mailbox.fileMessageId}"] .attachment a[download]`);
    await link.waitFor();
    const download = page.waitForEvent("download");
    await link.click();
    const file = await download;
    expect(readFileSync((await file.path()) as string, "utf8")).toBe("line one\nline two\n");
    expect(foreign).toEqual([]);
    expect(dialogs).toEqual([]);
    await close();
  });

  it("opens an unpacked bundle folder chosen with the folder input, checking every file in it", async () => {
    const { page, foreign, close } = await watchedPage(browser, [server.origin]);
    await page.goto(`${server.origin}/viewer/`);
    await page.locator("#bundle-folder").setInputFiles(join(dir, "bundles", "signed"));
    await waitForVerification(page, "verified");
    await page.locator(".stats").waitFor();
    await page.goto(`${server.origin}/viewer/`);
    await page.locator("#bundle-folder").setInputFiles(join(dir, "flipped"));
    await page.waitForTimeout(3000);
    console.log(
      "DEBUG",
      await page.locator("#status").getAttribute("data-verification"),
      await page.locator("main").textContent(),
    );
    await expect(waitForVerification(page, "tampered")).resolves.toContain("does not match its sha256");
    expect(foreign).toEqual([]);
    await close();
  });

  it("opens a zip dropped on the page", async () => {
    const { page, close } = await watchedPage(browser, [server.origin]);
    await page.goto(`${server.origin}/viewer/`);
    await waitForVerification(page, "none");
    const zip = readFileSync(join(dir, "files", "bundle.zip")).toString("base64");
    await page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(zip)}), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], "bundle.zip", { type: "application/zip" }));
      window.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    })()`);
    await waitForVerification(page, "verified");
    await page.locator(".stats").waitFor();
    await close();
  });

  it("opens a zip and a bundle directory named with ?bundle=", async () => {
    const { page, foreign, close } = await watchedPage(browser, [server.origin]);
    await page.goto(
      `${server.origin}/viewer/?bundle=${encodeURIComponent("/files/bundle.zip")}#/search?q=xylophonist`,
    );
    await waitForVerification(page, "verified");
    await page.locator(`[data-message-id="${mailbox.planted.id}"]`).waitFor();
    await page.goto(
      `${server.origin}/viewer/?bundle=${encodeURIComponent(`${server.origin}/bundles/signed/`)}`,
    );
    await waitForVerification(page, "verified");
    await page.locator(".stats").waitFor();
    expect(server.requests).toContain("/bundles/signed/manifest.json");
    expect(foreign).toEqual([]);
    await close();
  });

  it("refuses a zip with a tampered chunk, and a file that is not a zip", async () => {
    const { page, close } = await watchedPage(browser, [server.origin]);
    await page.goto(`${server.origin}/viewer/`);
    await page.locator("#bundle-file").setInputFiles(join(dir, "files", "flipped.zip"));
    const text = await waitForVerification(page, "tampered");
    expect(text).toContain(`${chunkPath(0)} does not match its sha256`);
    await page.goto(`${server.origin}/viewer/`);
    await page.locator("#bundle-file").setInputFiles(join(dir, "files", "not-a-zip.zip"));
    await expect(page.locator("main .error").textContent()).resolves.toMatch(/not a readable zip file/);
    await close();
  });
});
