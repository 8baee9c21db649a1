import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PreviewServer, startPreviewServer } from "../../exporter/preview.js";
import { CANARY } from "../../fixtures/xss-corpus.js";
import { exportWithViewer, type SeededLandmarks, seededMailbox, testKey } from "./bundles.js";
import {
  launchBrowser,
  type StaticServer,
  serveStatic,
  type Watched,
  waitForRoute,
  waitForVerification,
  watchedPage,
} from "./harness.js";

/**
 * A signed bundle of a seeded mailbox, served by `pigeonhole preview` (every route, search, keyboard
 * navigation, attachments, themes, a phone-sized screen) and by a plain static server under a sub-path
 * (`/some/repo/`, as GitHub Pages serves a project site: relative URLs only, deep links), with no
 * request leaving the origin.
 */

const ARTIFACTS = join(import.meta.dirname, "../../test-artifacts/viewer");
const SUB = "/some/repo/";

let dir: string;
let mailbox: SeededLandmarks;
let server: StaticServer;
let preview: PreviewServer;
let origin: string;
let browser: Browser;
let watched: Watched;
let page: Page;

async function shot(name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
}

/**
 * Go to a hash route of the already-open viewer and wait until it shows that route (`main` carries the
 * route it rendered; `hash` must be written as the viewer writes links) and then `ready`.
 */
async function route(hash: string, ready = "main"): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await waitForRoute(page, hash);
  await page.locator(ready).first().waitFor();
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), "viewer-nav-"));
  mailbox = await seededMailbox(join(dir, "home"), 400);
  const key = await testKey(dir, 3);
  await exportWithViewer(join(dir, "home"), join(dir, "bundle"), { signKeyFile: key.file });
  preview = await startPreviewServer({ root: join(dir, "bundle") });
  origin = new URL(preview.url).origin;
  server = await serveStatic({ [SUB]: join(dir, "bundle") });
  browser = await launchBrowser();
  watched = await watchedPage(browser, [origin]);
  page = watched.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await preview?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a signed bundle served by pigeonhole preview", () => {
  it("opens verified and shows the overview", async () => {
    await page.goto(preview.url);
    const status = await waitForVerification(page, "verified");
    expect(status).toMatch(/signed by [0-9a-f]{4}(:[0-9a-f]{4}){3}/);
    await page.locator("h1", { hasText: "Overview" }).waitFor();
    const stats = await page.locator(".stats").textContent();
    expect(stats).toContain(`Messages${mailbox.summary.messages + 3}`);
    for (const project of mailbox.projects)
      await expect(page.locator(`a:text-is("${project}")`).count()).resolves.toBeGreaterThan(0);
    await expect(page.locator(".chart svg rect").count()).resolves.toBeGreaterThan(2);
    await expect(page.locator("table.agents tbody tr").count()).resolves.toBe(mailbox.agents);
    await shot("overview", false);
  });

  it("walks project, threads, agents and reservations of a project", async () => {
    await page.locator(`table.projects a:text-is("${mailbox.planted.project}")`).click();
    await page.locator("h1", { hasText: mailbox.planted.project }).waitFor();
    expect(page.url()).toContain(`#/project/${mailbox.planted.project}`);
    await expect(page.locator(".vlist [data-message-id]").count()).resolves.toBeGreaterThan(5);
    await shot("project");

    await page.locator(".tabs button", { hasText: "Threads" }).click();
    await page.locator("[data-thread-id]").first().waitFor();
    await page.locator(".tabs button", { hasText: "Agents" }).click();
    await page.locator("table.agents").waitFor();
    await page.locator(".tabs button", { hasText: "File reservations" }).click();
    const reservations = await page.locator("table.reservations").textContent();
    expect(reservations).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} → \d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    expect(reservations).toMatch(/released|expired|active/);
  });

  it("shows an agent's inbox with read and ack state, and its outbox", async () => {
    await route(`#/agent/${mailbox.planted.recipient}`, ".vlist [data-message-id]");
    await page.locator("h1", { hasText: mailbox.planted.recipient }).waitFor();
    const profile = await page.locator("dl.profile").textContent();
    expect(profile).toMatch(/Program[\s\S]*Model[\s\S]*Last active/);
    const states = await page.locator(".vlist .state").allTextContents();
    expect(states).toContain("read");
    expect(states).toContain("unread");
    await expect(page.locator(".vlist .ack-pending, .vlist .ack-done").count()).resolves.toBeGreaterThan(0);
    await expect(page.locator(".tabs").textContent()).resolves.toMatch(/Inbox \(\d+, \d+ unread\)/);
    await shot("agent-inbox");

    await page.locator(".tabs button", { hasText: "Outbox" }).click();
    await page.waitForURL(/box=outbox/);
    await page.locator(".vlist [data-message-id]").first().waitFor();
    await expect(page.locator(`.vlist [data-message-id="${mailbox.planted.id}"]`).count()).resolves.toBe(0);
  });

  it("shows a message with recipients, badges and payload, and its thread in order", async () => {
    await route(`#/message/${mailbox.planted.id}`, "article.message");
    const article = page.locator(`article.message[data-message-id="${mailbox.planted.id}"]`);
    await expect(article.locator(".msg-subject").textContent()).resolves.toBe(mailbox.planted.subject);
    await expect(article.locator(".recips").first().textContent()).resolves.toContain(
      mailbox.planted.recipient,
    );
    await expect(article.locator(".md strong").textContent()).resolves.toBe("xylophonist");
    await shot("message");

    await article.locator("a", { hasText: "thread" }).click();
    await waitForRoute(page, `#/thread/${mailbox.planted.thread}`);
    const ids = await page
      .locator("section.thread article.message")
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-message-id"))));
    expect(ids).toEqual([mailbox.planted.id, ...mailbox.planted.replies]);
    await shot("thread");
  });

  it("shows an inline image and offers a file attachment for download, both checked against the manifest", async () => {
    await route(`#/message/${mailbox.imageMessageId}`, ".attachment img");
    const size = await page
      .locator(".attachment img")
      .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    expect(size).toBeGreaterThan(0);
    const link = `.attachment a[download=${JSON.stringify(mailbox.file.filename)}]`;
    await route(`#/message/${mailbox.file.messageId}`, link);
    const download = page.waitForEvent("download");
    await page.locator(link).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(mailbox.file.filename);
  });

  it("finds the planted message with the query language, filters and highlighted snippets", async () => {
    const search = page.locator("input[type=search]");
    const results = async (q: string, filters = ""): Promise<number[]> => {
      await route(`#/search?q=${encodeURIComponent(q)}${filters}`);
      return page
        .locator("section.search [data-message-id]")
        .evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-message-id"))));
    };
    await search.fill("xylophonist");
    await search.press("Enter");
    await page.waitForURL(/#\/search\?q=xylophonist/);
    await page.locator(`section.search [data-message-id="${mailbox.planted.id}"]`).waitFor();
    await expect(page.locator("section.search mark").first().textContent()).resolves.toBe("xylophonist");
    await shot("search");

    expect(await results("xylophon*")).toEqual([mailbox.planted.id]);
    expect(await results('"xylophonist report"')).toEqual([mailbox.planted.id]);
    expect(await results("xylophonist AND ready")).toEqual([mailbox.planted.id]);
    expect(await results("zzzqqq OR xylophonist")).toEqual([mailbox.planted.id]);
    expect(await results("xylophonist NOT ready")).toEqual([]);
    expect(await results("xylophonist -ready")).toEqual([]);
    expect(await results("(zephyr OR nothingatall) calibration -re")).toEqual([mailbox.planted.id]);
    expect(await results("xylophonist", `&sender=${mailbox.planted.sender}`)).toEqual([mailbox.planted.id]);
    expect(await results("xylophonist", `&recipient=${mailbox.planted.recipient}`)).toEqual([
      mailbox.planted.id,
    ]);
    expect(await results("xylophonist", `&project=${mailbox.planted.project}`)).toEqual([mailbox.planted.id]);
    expect(await results("xylophonist", `&sender=${mailbox.planted.cc}`)).toEqual([]);
    expect(await results("xylophonist", "&from=2030-01-01")).toEqual([]);
    expect(await results("xylophonist", "&to=2026-01-04")).toEqual([]);

    // Typing on the search page searches as you type, replacing the page rather than stacking history.
    await route("#/search?q=xylophonist");
    await search.fill("zephyr");
    await waitForRoute(page, "#/search?q=zephyr");
    await expect(page.locator("section.search [role=status]").textContent()).resolves.toMatch(
      /^\d+ messages?$/,
    );

    await results('"unclosed phrase');
    await expect(page.locator("section.search .error").textContent()).resolves.toMatch(/never closed/);
  });

  it("lists many results without rendering them all", async () => {
    await route("#/search?q=&importance=normal");
    const status = await page.locator("section.search [role=status]").textContent();
    const total = Number(status?.replace(/\D/g, ""));
    expect(total).toBeGreaterThan(100);
    const rendered = await page.locator("section.search [data-message-id]").count();
    expect(rendered).toBeLessThan(total);
  });

  it("navigates with the keyboard: j/k, Enter, / and Esc", async () => {
    await route(`#/agent/${mailbox.planted.sender}?box=outbox`, ".vlist [data-message-id]");
    const ids = await page
      .locator(".vlist [data-message-id]")
      .evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-message-id"))));
    await page.locator("body").click({ position: { x: 2, y: 300 } });
    await page.keyboard.press("j");
    await page.keyboard.press("j");
    await page.keyboard.press("j");
    await page.keyboard.press("k");
    await expect(page.locator(".vlist .selected").getAttribute("data-message-id")).resolves.toBe(
      String(ids[1]),
    );
    await page.keyboard.press("Enter");
    await waitForRoute(page, `#/message/${ids[1]}`);
    await page.keyboard.press("Escape");
    await waitForRoute(page, `#/agent/${mailbox.planted.sender}?box=outbox`);

    await page.keyboard.press("/");
    await expect(page.evaluate("document.activeElement.id")).resolves.toBe("search");
    await page.keyboard.press("Escape");
    await expect(page.evaluate("document.activeElement.id")).resolves.not.toBe("search");
  });

  it("switches to the dark theme and keeps the choice", async () => {
    await route("#/", ".stats");
    await page.locator("button.theme").click();
    await expect(page.evaluate("document.documentElement.dataset.theme")).resolves.toBe("dark");
    const background = await page.evaluate("getComputedStyle(document.body).backgroundColor");
    expect(background).toBe("rgb(21, 23, 27)");
    await shot("overview-dark", false);
    await page.reload();
    await waitForVerification(page, "verified");
    await expect(page.evaluate("document.documentElement.dataset.theme")).resolves.toBe("dark");
    await page.locator("button.theme").click();
  });

  it("fits a phone screen", async () => {
    const phone = await watchedPage(browser, [origin], { width: 390, height: 844 });
    try {
      await phone.page.goto(`${preview.url}#/agent/${mailbox.planted.recipient}`);
      await phone.page.locator(".vlist [data-message-id]").first().waitFor();
      const overflow = await phone.page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
      expect(overflow).toBeLessThanOrEqual(0);
      await phone.page.screenshot({ path: join(ARTIFACTS, "phone-inbox.png") });
      await phone.page.goto(`${preview.url}#/message/${mailbox.planted.id}`);
      await phone.page.locator("article.message").waitFor();
      await expect(
        phone.page.evaluate("document.documentElement.scrollWidth - window.innerWidth"),
      ).resolves.toBeLessThanOrEqual(0);
    } finally {
      await phone.close();
    }
  });

  it("made no request to another origin, opened no dialog and raised no page error", async () => {
    expect(watched.foreign).toEqual([]);
    expect(watched.dialogs).toEqual([]);
    expect(watched.errors).toEqual([]);
    await expect(page.evaluate(`window.${CANARY}`)).resolves.toBe("intact");
    await expect(page.evaluate("window.__cspViolations")).resolves.toEqual([]);
  });
});

describe("the same bundle under a sub-path of a plain static server", () => {
  let sub: Watched;

  beforeAll(async () => {
    sub = await watchedPage(browser, [server.origin]);
  });

  it("opens a deep link directly", async () => {
    await sub.page.goto(`${server.origin}${SUB}#/thread/${mailbox.planted.thread}`);
    const status = await waitForVerification(sub.page, "verified");
    expect(status).toMatch(/signed by [0-9a-f]{4}(:[0-9a-f]{4}){3}/);
    await sub.page.locator(`section.thread article[data-message-id="${mailbox.planted.id}"]`).waitFor();
    await sub.page.goto(`${server.origin}${SUB}#/search?q=xylophonist`);
    await sub.page.locator(`section.search [data-message-id="${mailbox.planted.id}"]`).waitFor();
    await sub.page.goto(`${server.origin}${SUB}#/no/such/page`);
    await sub.page.locator("h1", { hasText: "Not found" }).waitFor();
  });

  it("Esc on the page the viewer opened on goes to the overview, never out of the viewer", async () => {
    const fresh = await watchedPage(browser, [server.origin]);
    try {
      await fresh.page.goto(`${server.origin}${SUB}#/message/${mailbox.planted.id}`);
      await fresh.page.locator("article.message").waitFor();
      await fresh.page.keyboard.press("Escape");
      await waitForRoute(fresh.page, "#/");
      await fresh.page.keyboard.press("Escape");
      await fresh.page.locator(".stats").waitFor();
      expect(fresh.page.url()).toBe(`${server.origin}${SUB}#/`);
    } finally {
      await fresh.close();
    }
  });

  it("reads an attachment file from under the sub-path", async () => {
    await sub.page.goto(`${server.origin}${SUB}#/message/${mailbox.file.messageId}`);
    await sub.page.locator(`.attachment a[download=${JSON.stringify(mailbox.file.filename)}]`).waitFor();
    expect(server.requests.some((p) => p.startsWith(`${SUB}attachments/`))).toBe(true);
  });

  it("loads every file from under the sub-path, nothing from the server root or another origin", () => {
    expect(server.requests.filter((path) => !path.startsWith(SUB))).toEqual([]);
    expect(server.requests).toContain(`${SUB}manifest.json`);
    expect(server.requests.some((p) => p.startsWith(`${SUB}_astro/`) && p.endsWith(".wasm"))).toBe(true);
    expect(sub.foreign).toEqual([]);
    expect(sub.dialogs).toEqual([]);
    expect(sub.errors).toEqual([]);
  });
});
