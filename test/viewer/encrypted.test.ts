import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateIdentity, identityToRecipient } from "age-encryption";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chunkPath } from "../../exporter/bundle-format.js";
import { buildViewerMailbox, type ViewerMailboxSummary } from "../../fixtures/viewer-mailbox.js";
import { exportWithViewer, testKey } from "./bundles.js";
import {
  launchBrowser,
  type StaticServer,
  serveStatic,
  waitForVerification,
  watchedPage,
} from "./harness.js";

/**
 * Encrypted bundles: signature and chunks are checked on the ciphertext, the viewer then asks for the
 * secret (`locked`), refuses a wrong passphrase or identity with a clear message, and decrypts in the
 * browser with the right one; attachments come from inside the encrypted database.
 */

const PASSPHRASE = "correct horse battery staple";
let identity: string;
let dir: string;
let mailbox: ViewerMailboxSummary;
let server: StaticServer;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "viewer-enc-"));
  const home = join(dir, "home");
  mailbox = buildViewerMailbox({ home, messages: 80 });
  identity = await generateIdentity();
  const key = await testKey(dir, 1);
  writeFileSync(join(dir, "passphrase.txt"), `${PASSPHRASE}\n`);
  await exportWithViewer(home, join(dir, "passphrase"), {
    signKeyFile: key.file,
    passphraseFile: join(dir, "passphrase.txt"),
    chunkSize: 64 * 1024,
  });
  await exportWithViewer(home, join(dir, "recipients"), {
    signKeyFile: key.file,
    recipients: [await identityToRecipient(identity)],
  });
  cpSync(join(dir, "passphrase"), join(dir, "flipped"), { recursive: true });
  const chunk = join(dir, "flipped", chunkPath(0));
  const bytes = readFileSync(chunk);
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0x80;
  writeFileSync(chunk, bytes);
  server = await serveStatic({ "/": dir });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("encrypted bundles", () => {
  it("a passphrase bundle is locked, refuses a wrong passphrase and opens with the right one", async () => {
    const { page, foreign, close } = await watchedPage(browser, [server.origin]);
    await page.goto(`${server.origin}/passphrase/#/message/${mailbox.fileMessageId}`);
    const locked = await waitForVerification(page, "locked");
    expect(locked).toMatch(/signature verified/);
    await page.locator("#secret").fill("wrong horse");
    await page.locator("form.unlock button[type=submit]").click();
    await expect(page.locator("#unlock-error").textContent()).resolves.toMatch(/Wrong passphrase/);
    await expect(page.locator("#status").getAttribute("data-verification")).resolves.toBe("locked");

    await page.locator("#secret").fill(PASSPHRASE);
    await page.locator("form.unlock button[type=submit]").click();
    await waitForVerification(page, "verified");
    // The deep link still leads to the message, and its file attachment comes from inside the database.
    await page
      .locator(`article[data-message-id="${mailbox.fileMessageId}"] .attachment a[download]`)
      .waitFor();
    expect(foreign).toEqual([]);
    await close();
  });

  it("a recipients bundle opens with an age identity and refuses another one", async () => {
    const { page, foreign, close } = await watchedPage(browser, [server.origin]);
    await page.goto(`${server.origin}/recipients/`);
    await waitForVerification(page, "locked");
    await page.locator("#secret").fill(await generateIdentity());
    await page.locator("form.unlock button[type=submit]").click();
    await expect(page.locator("#unlock-error").textContent()).resolves.toMatch(
      /not one of this bundle's recipients/,
    );
    await page.locator("#secret").fill("a passphrase instead");
    await page.locator("form.unlock button[type=submit]").click();
    await expect(page.locator("#unlock-error").textContent()).resolves.toMatch(/encrypted to age recipients/);

    await page.locator("#secret").fill(identity);
    await page.locator("form.unlock button[type=submit]").click();
    await waitForVerification(page, "verified");
    await page.locator(".stats").waitFor();
    expect(foreign).toEqual([]);
    await close();
  });

  it("a recipients bundle opens with an identity file", async () => {
    const file = join(dir, "identity.txt");
    writeFileSync(
      file,
      `# created: 2026-01-01\n# public key: ${await identityToRecipient(identity)}\n${identity}\n`,
    );
    const { page, close } = await watchedPage(browser, [server.origin]);
    await page.goto(`${server.origin}/recipients/`);
    await waitForVerification(page, "locked");
    await page.locator("form.unlock input[type=file]").setInputFiles(file);
    await waitForVerification(page, "verified");
    await close();
  });

  it("a flipped byte in an encrypted chunk is tampered before any secret is asked", async () => {
    const { page, close } = await watchedPage(browser, [server.origin]);
    await page.goto(`${server.origin}/flipped/`);
    const text = await waitForVerification(page, "tampered");
    expect(text).toContain(`${chunkPath(0)} does not match its sha256`);
    await expect(page.locator("#secret").count()).resolves.toBe(0);
    await close();
  });
});
