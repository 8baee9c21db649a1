import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildViewerMailbox, type ViewerMailboxSummary } from "../../fixtures/viewer-mailbox.js";
import { CANARY, XSS_CORPUS } from "../../fixtures/xss-corpus.js";
import { exportWithViewer, testKey } from "./bundles.js";
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
 * A mailbox whose every text field holds hostile strings (fixtures/xss-corpus.ts): project slugs and
 * keys, agent names, programs, models and tasks, subjects, bodies, topics, thread ids, payloads,
 * attachment names and types, reservation patterns and reasons. On every route the viewer must run no
 * script (no dialog, the canary untouched), put no event handler, scriptable URL or foreign source into
 * the page (so the sanitizer alone stopped everything, the CSP being a second wall), trip no CSP rule
 * about loading anything, and make no request to another origin.
 */

let dir: string;
let mailbox: ViewerMailboxSummary;
let server: StaticServer;
let browser: Browser;
let watched: Watched;
let threads: string[];
let messageIds: number[];
let subjects: Map<number, string>;

const enc = encodeURIComponent;

/** Everything in the page that could run script or load something, described; empty when clean. */
const DANGER = `(() => {
  const found = [];
  for (const el of document.querySelectorAll("body *")) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) found.push(el.tagName + " has " + a.name);
      if (/^(href|src|srcset|action|formaction|xlink:href|poster|data|background)$/i.test(a.name) &&
          /^\\s*(javascript|vbscript|data:(?!image\\/(png|jpeg|gif|webp|avif|bmp);))/i.test(a.value))
        found.push(el.tagName + " " + a.name + "=" + a.value.slice(0, 40));
      if (/^(src|srcset|poster|background)$/i.test(a.name) && /^\\s*(https?:)?\\/\\//i.test(a.value))
        found.push(el.tagName + " loads " + a.value.slice(0, 40));
    }
  }
  for (const el of document.querySelectorAll("main script, main iframe, main object, main embed, main style, main link, main base, main meta, main frame, .md svg, .md math, .md form, .md input, .md button, .md textarea, .md select, .md video, .md audio, .md source, .md picture, .md template"))
    found.push("element " + el.tagName);
  return found;
})()`;

async function clean(where: string): Promise<void> {
  const { page } = watched;
  expect(await page.evaluate(`window.${CANARY}`), where).toBe("intact");
  // Chromium checks inline handlers, inline styles and <base> already while DOMPurify parses markup in
  // its inert document (nothing runs there); the DANGER check proves none of them reached the page.
  const violations = (await page.evaluate("window.__cspViolations")) as string[];
  expect(
    violations.filter((v) => !/^((script|style)-src-attr inline|base-uri) /.test(v)),
    where,
  ).toEqual([]);
  expect(await page.evaluate(DANGER), where).toEqual([]);
  expect(watched.dialogs, where).toEqual([]);
  expect(watched.foreign, where).toEqual([]);
  expect(watched.errors, where).toEqual([]);
}

async function visit(hash: string): Promise<void> {
  const { page } = watched;
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await waitForRoute(page, hash);
  // Attachments resolve asynchronously; let them settle before looking.
  await page.locator(".attachment.pending").first().waitFor({ state: "detached" });
  await clean(hash);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "viewer-xss-"));
  const home = join(dir, "home");
  mailbox = buildViewerMailbox({ home, messages: 70, hostile: XSS_CORPUS });
  const db = new Database(join(home, "mailbox.sqlite3"), { readonly: true });
  threads = db
    .prepare("SELECT DISTINCT coalesce(thread_id, CAST(id AS TEXT)) FROM messages")
    .pluck()
    .all() as string[];
  const rows = db.prepare("SELECT id, subject FROM messages ORDER BY id").all() as {
    id: number;
    subject: string;
  }[];
  messageIds = rows.map((r) => r.id);
  subjects = new Map(rows.map((r) => [r.id, r.subject]));
  db.close();
  // The lossless preset: every hostile string reaches the bundle as planted.
  const key = await testKey(dir, 4);
  await exportWithViewer(home, join(dir, "bundle"), { signKeyFile: key.file, scrub: "archive" });
  server = await serveStatic({ "/": join(dir, "bundle") });
  browser = await launchBrowser();
  watched = await watchedPage(browser, [server.origin]);
  await watched.page.goto(`${server.origin}/`);
  await waitForVerification(watched.page, "verified");
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("hostile strings in every text field", () => {
  it("plants at least 50 payloads", () => {
    expect(XSS_CORPUS.length).toBeGreaterThanOrEqual(50);
    expect(new Set(XSS_CORPUS).size).toBe(XSS_CORPUS.length);
  });

  it("the overview and every project with each of its tabs stay inert", async () => {
    await visit("#/");
    for (const slug of mailbox.projects) {
      await visit(`#/project/${enc(slug)}`);
      for (const tab of ["Threads", "Agents", "File reservations", "Messages"]) {
        await watched.page.locator(".tabs button", { hasText: tab }).click();
        await clean(`${slug} / ${tab}`);
      }
    }
    const slugs = await watched.page.evaluate(
      `[...document.querySelectorAll("h1")].map((h) => h.textContent)`,
    );
    expect(slugs).toEqual([mailbox.projects.at(-1)]);
  });

  it("every agent's inbox and outbox stay inert", async () => {
    for (const name of mailbox.agents) {
      await visit(`#/agent/${enc(name)}`);
      await expect(watched.page.locator("h1").textContent()).resolves.toContain(name);
      await visit(`#/agent/${enc(name)}?box=outbox`);
    }
  });

  it("every thread stays inert", async () => {
    for (const key of threads) await visit(`#/thread/${enc(key)}`);
  });

  it("every message stays inert, its text shown as text", async () => {
    for (const id of messageIds) {
      await visit(`#/message/${id}`);
      await expect(watched.page.locator("article .msg-subject").textContent()).resolves.toBe(
        subjects.get(id),
      );
    }
    await visit(`#/message/${mailbox.fileMessageId}`);
    await expect(watched.page.locator(".attachment").count()).resolves.toBe(1);
  });

  it("search results, snippets and filters stay inert", async () => {
    await visit(`#/search?q=${enc("script OR img OR svg OR alert")}`);
    await expect(watched.page.locator("section.search [data-message-id]").count()).resolves.toBeGreaterThan(
      0,
    );
    for (const payload of XSS_CORPUS.slice(0, 12)) {
      await visit(`#/search?q=${enc(payload)}&sender=${enc(mailbox.agents[0] as string)}`);
    }
  });
});
