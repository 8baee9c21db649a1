import { createReadStream, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../../fixtures/local-process.js";
import { CANARY } from "../../fixtures/xss-corpus.js";

/**
 * Browser-test plumbing for the viewer: a plain node:http static server (no Range, no tricks, like any
 * static host) that mounts directories under URL prefixes, and real Chromium from Debian driven by
 * playwright-core, with every request to a foreign origin recorded and aborted.
 */

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".zip": "application/zip",
};

export interface StaticServer {
  origin: string;
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serve `mounts` (URL prefix ending in `/` → directory) on 127.0.0.1; `/prefix/` serves `index.html`.
 * `delay(path)` holds a response back that many milliseconds (a slow network).
 */
export async function serveStatic(
  mounts: Record<string, string>,
  delay: (path: string) => number = () => 0,
): Promise<StaticServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(path);
    const prefix = Object.keys(mounts)
      .filter((p) => path.startsWith(p))
      .sort((a, b) => b.length - a.length)[0];
    if (prefix === undefined) {
      res.writeHead(404).end("not found");
      return;
    }
    const root = mounts[prefix] as string;
    let file = normalize(join(root, path.slice(prefix.length)));
    if (!file.startsWith(normalize(root + sep)) && file !== normalize(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, "index.html");
      const size = statSync(file).size;
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "content-length": size,
        "cache-control": "no-store",
      });
      const wait = delay(path);
      if (wait > 0) setTimeout(() => createReadStream(file).pipe(res), wait);
      else createReadStream(file).pipe(res);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Launch the Debian Chromium headless. */
export const launchBrowser = launchChromium;

/** A page and what it did that a test should look at. */
export interface Watched {
  page: Page;
  /** Requests to any origin other than the allowed ones (aborted). */
  foreign: string[];
  dialogs: string[];
  errors: string[];
  close(): Promise<void>;
}

/**
 * A fresh context (own storage and cache) with one page. Requests outside `allowedOrigins` are recorded
 * and aborted; dialogs are recorded and dismissed; the XSS canary global is set before any page script,
 * and Content-Security-Policy violations are collected in `window.__cspViolations`.
 */
export async function watchedPage(
  browser: Browser,
  allowedOrigins: string[],
  viewport = { width: 1280, height: 860 },
): Promise<Watched> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const foreign: string[] = [];
  const dialogs: string[] = [];
  const errors: string[] = [];
  // A string, not a function: the test code has no DOM types, and this runs in the page before any script.
  await page.addInitScript({
    content: `window[${JSON.stringify(CANARY)}] = "intact";
      window.__cspViolations = [];
      document.addEventListener("securitypolicyviolation", (e) =>
        window.__cspViolations.push([e.violatedDirective, e.blockedURI, e.sample, e.sourceFile, e.lineNumber].join(" ")));`,
  });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    const origin = new URL(url).origin;
    if (allowedOrigins.includes(origin)) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return { page, foreign, dialogs, errors, close: () => context.close() };
}

/** Wait until the status element shows `state`; returns its text. */
export async function waitForVerification(page: Page, state: string): Promise<string> {
  const status = page.locator(`#status[data-verification="${state}"]`);
  await status.waitFor({ timeout: 30_000 });
  return (await status.textContent()) ?? "";
}

/**
 * Wait until the viewer has rendered route `hash` (written as the viewer writes links): `main` carries
 * the route it shows. A locator, not waitForFunction, which would need eval under the viewer's CSP.
 */
export async function waitForRoute(page: Page, hash: string): Promise<void> {
  await page.locator(`main[data-route=${JSON.stringify(hash)}]`).waitFor();
}
