import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { urlReader } from "../../exporter/verify/url-reader.js";
import { verifyBundle } from "../../exporter/verify/verify.js";
import { vectorWorkspace } from "./bundles.js";

/**
 * Verifying over http(s) against a plain node:http server that misbehaves on purpose: cross-origin
 * redirects, endless bodies, errors.
 */

let ws: Awaited<ReturnType<typeof vectorWorkspace>>;
let server: Server;
let other: Server;
let base: string;
let otherBase: string;
const requests: string[] = [];

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const address = s.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  return `http://127.0.0.1:${address.port}`;
}

beforeAll(async () => {
  ws = await vectorWorkspace("url");
  const good = ws.vector("good-signed").dir;
  other = createServer((req, res) => {
    res.end(readFileSync(join(good, decodeURIComponent((req.url ?? "/").replace(/^\/good\//, "")))));
  });
  otherBase = await listen(other);
  server = createServer((req, res) => {
    const url = req.url ?? "/";
    requests.push(url);
    const serveFrom = (dir: string, path: string) => {
      try {
        res.end(readFileSync(join(dir, decodeURIComponent(path))));
      } catch {
        res.statusCode = 404;
        res.end();
      }
    };
    if (url.startsWith("/good/")) return serveFrom(good, url.slice("/good/".length));
    if (url.startsWith("/moved/")) {
      res.writeHead(301, { Location: url.replace("/moved/", "/good/") });
      return res.end();
    }
    if (url.startsWith("/away/")) {
      // Every file but the manifest and signatures is sent to another origin.
      if (/manifest/.test(url)) return serveFrom(good, url.slice("/away/".length));
      res.writeHead(302, { Location: `${otherBase}${url.replace("/away/", "/good/")}` });
      return res.end();
    }
    if (url.startsWith("/endless/")) {
      if (/manifest/.test(url) || url.endsWith(".nojekyll") === false)
        return serveFrom(good, url.slice("/endless/".length));
      // An endless body for a file listed as empty: the reader must stop after one byte.
      res.writeHead(200);
      const timer = setInterval(() => res.write(Buffer.alloc(64 * 1024, 1)), 1);
      res.on("close", () => clearInterval(timer));
      return;
    }
    if (url.startsWith("/broken/")) {
      if (url.endsWith("index.html")) {
        res.statusCode = 500;
        return res.end();
      }
      return serveFrom(good, url.slice("/broken/".length));
    }
    res.statusCode = 404;
    res.end();
  });
  base = await listen(server);
});
afterAll(async () => {
  server?.closeAllConnections();
  other?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await new Promise((r) => other?.close(r));
  ws?.cleanup();
});

describe("verify over http", () => {
  it("verifies a published bundle and fetches only what the manifest lists", async () => {
    requests.length = 0;
    const result = await verifyBundle(urlReader(`${base}/good/`));
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.unlisted_checked).toBe(false);
    const manifest = JSON.parse(readFileSync(join(ws.vector("good-signed").dir, "manifest.json"), "utf8"));
    expect(requests.length).toBe(3 + manifest.files.length);
  });

  it("follows redirects within the origin", async () => {
    expect((await verifyBundle(urlReader(`${base}/moved/manifest.json`))).ok).toBe(true);
  });

  it("refuses redirects to another origin, naming each file", async () => {
    const result = await verifyBundle(urlReader(`${base}/away/`));
    expect(result.ok).toBe(false);
    expect(result.problems.length).toBeGreaterThan(3);
    for (const problem of result.problems) {
      expect(problem.problem).toMatch(/redirects to another origin/);
    }
    expect(result.problems.map((p) => p.path)).toContain("index.html");
  });

  it("stops reading a body longer than the listed size", async () => {
    const result = await verifyBundle(urlReader(`${base}/endless/`));
    expect(result.problems).toEqual([{ path: ".nojekyll", problem: "larger than its listed 0 bytes" }]);
  });

  it("names a file the server fails to send", async () => {
    const result = await verifyBundle(urlReader(`${base}/broken/`));
    expect(result.problems).toEqual([
      { path: "index.html", problem: expect.stringMatching(/cannot be read: HTTP 500/) },
    ]);
  });

  it("refuses URLs that are not http(s)", () => {
    expect(() => urlReader("file:///etc/")).toThrow(/only http and https/);
  });
});
