import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PreviewServer, startPreviewServer } from "../../exporter/preview.js";
import { CLI, cliEnv } from "../server/cli-process.js";

/** pigeonhole preview: MIME types, Range, no-store, no listings, no way out of the bundle. */

const FILES: Record<string, string | Uint8Array> = {
  "index.html": "<!doctype html><title>x</title>",
  "_astro/app.js": "export {};",
  "_astro/mod.mjs": "export const a = 1;",
  "_astro/style.css": "body{}",
  "manifest.json": "{}",
  "sql-wasm.wasm": new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
  "icon.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
  "pic.png": new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
  "pic.webp": new Uint8Array([0x52, 0x49, 0x46, 0x46]),
  "fonts/inter.woff2": new Uint8Array([0x77, 0x4f, 0x46, 0x32]),
  "README.md": "# Bundle",
  ".nojekyll": "",
  "db/chunk-00000": "0123456789abcdefghijklmnopqrstuvwxyz",
  "attachments/ab/evil.svg": "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
  "manifest.json.minisig": "untrusted comment: x\n",
};

const EXPECTED_TYPES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "_astro/app.js": "text/javascript; charset=utf-8",
  "_astro/mod.mjs": "text/javascript; charset=utf-8",
  "_astro/style.css": "text/css; charset=utf-8",
  "manifest.json": "application/json",
  "sql-wasm.wasm": "application/wasm",
  "icon.svg": "image/svg+xml",
  "pic.png": "image/png",
  "pic.webp": "image/webp",
  "fonts/inter.woff2": "font/woff2",
  "README.md": "text/markdown; charset=utf-8",
  ".nojekyll": "application/octet-stream",
  "db/chunk-00000": "application/octet-stream",
};

const root = mkdtempSync(join(tmpdir(), "pigeonhole-preview-"));
const bundle = join(root, "bundle");
let dirServer: PreviewServer;
let zipServer: PreviewServer;

beforeAll(async () => {
  const zipFiles: Record<string, Uint8Array> = {};
  for (const [path, content] of Object.entries(FILES)) {
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
    mkdirSync(dirname(join(bundle, path)), { recursive: true });
    writeFileSync(join(bundle, path), bytes);
    zipFiles[path] = bytes;
  }
  writeFileSync(join(root, "secret.txt"), "outside the bundle");
  symlinkSync(join(root, "secret.txt"), join(bundle, "link.txt"));
  dirServer = await startPreviewServer({ root: bundle });
  zipServer = await startPreviewServer({ zip: zipSync(zipFiles) });
});
afterAll(async () => {
  await dirServer?.close();
  await zipServer?.close();
  rmSync(root, { recursive: true, force: true });
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request with the path sent exactly as given (fetch would normalize `..` away). */
async function raw(
  server: PreviewServer,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse> {
  const req = request({
    host: "127.0.0.1",
    port: server.port,
    path,
    method: options.method ?? "GET",
    headers: options.headers,
  });
  req.end();
  const [res] = (await once(req, "response")) as [import("node:http").IncomingMessage];
  const parts: Buffer[] = [];
  for await (const part of res) parts.push(part as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) };
}

describe.each([
  ["directory", () => dirServer],
  ["zip", () => zipServer],
] as const)("preview of a %s", (_kind, server) => {
  it("serves every kind of bundle file with its Content-Type, no-store and nosniff", async () => {
    for (const [path, type] of Object.entries(EXPECTED_TYPES)) {
      const res = await raw(server(), `/${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers["content-type"], path).toBe(type);
      expect(res.headers["cache-control"], path).toBe("no-store");
      expect(res.headers["x-content-type-options"], path).toBe("nosniff");
      const content = FILES[path] as string | Uint8Array;
      expect(res.body.equals(Buffer.from(content)), path).toBe(true);
    }
  });

  it("serves index.html for / and prints a URL ending in /", async () => {
    expect(server().url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(server().url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(FILES["index.html"]);
  });

  it("answers single Range requests with 206 and out-of-range ones with 416", async () => {
    const chunk = "/db/chunk-00000";
    const full = FILES["db/chunk-00000"] as string;
    const cases: [string, number, string, string | undefined][] = [
      ["bytes=0-9", 206, full.slice(0, 10), `bytes 0-9/${full.length}`],
      ["bytes=30-", 206, full.slice(30), `bytes 30-35/${full.length}`],
      ["bytes=-4", 206, full.slice(-4), `bytes 32-35/${full.length}`],
      ["bytes=10-1000", 206, full.slice(10), `bytes 10-35/${full.length}`],
      ["bytes=0-1,4-5", 200, full, undefined],
      ["items=0-1", 200, full, undefined],
    ];
    for (const [range, status, body, contentRange] of cases) {
      const res = await raw(server(), chunk, { headers: { Range: range } });
      expect(res.status, range).toBe(status);
      expect(res.body.toString(), range).toBe(body);
      expect(res.headers["content-range"], range).toBe(contentRange);
      expect(res.headers["content-length"], range).toBe(String(body.length));
      expect(res.headers["accept-ranges"]).toBe("bytes");
    }
    for (const range of [`bytes=${full.length}-`, "bytes=1000-2000", "bytes=-0"]) {
      const res = await raw(server(), chunk, { headers: { Range: range } });
      expect(res.status, range).toBe(416);
      expect(res.headers["content-range"]).toBe(`bytes */${full.length}`);
      expect(res.headers["cache-control"]).toBe("no-store");
    }
  });

  it("answers HEAD without a body and refuses other methods", async () => {
    const head = await raw(server(), "/index.html", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe(String((FILES["index.html"] as string).length));
    expect(head.body.length).toBe(0);
    const post = await raw(server(), "/index.html", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("lists no directory, and 404s what is not there", async () => {
    for (const path of ["/db", "/db/", "/_astro/", "/missing.html", "/attachments"]) {
      const res = await raw(server(), path);
      expect(res.status, path).toBe(404);
      expect(res.body.toString()).not.toContain("chunk-00000");
    }
  });

  it("refuses every path that tries to leave the bundle", async () => {
    for (const path of [
      "/../secret.txt",
      "/%2e%2e/secret.txt",
      "/db/..%2f..%2fsecret.txt",
      "/db/%2e%2e/%2e%2e/secret.txt",
      "/..%5csecret.txt",
      "/index.html%00.png",
      "//etc/passwd",
      "/%E0%A4%A",
    ]) {
      const res = await raw(server(), path);
      expect(res.status, path).toBe(403);
      expect(res.body.toString()).not.toContain("outside the bundle");
    }
  });

  it("sandboxes attachments so a scripted SVG cannot act in the viewer's origin", async () => {
    const res = await raw(server(), "/attachments/ab/evil.svg");
    expect(res.status).toBe(200);
    expect(res.headers["content-security-policy"]).toMatch(/^sandbox;/);
    expect((await raw(server(), "/index.html")).headers["content-security-policy"]).toBeUndefined();
  });

  it("refuses requests whose Host names another machine (DNS rebinding)", async () => {
    const res = await raw(server(), "/index.html", { headers: { Host: "attacker.example:80" } });
    expect(res.status).toBe(403);
    const local = await raw(server(), "/index.html", { headers: { Host: `localhost:${server().port}` } });
    expect(local.status).toBe(200);
  });
});

describe("preview safety", () => {
  it("does not follow a symbolic link out of the bundle directory", async () => {
    const res = await raw(dirServer, "/link.txt");
    expect(res.status).toBe(404);
    expect(res.body.toString()).not.toContain("outside the bundle");
  });

  it("listens on loopback only", async () => {
    await expect(startPreviewServer({ root: bundle, host: "0.0.0.0" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });

  it("refuses a zip with an unsafe entry before serving anything", async () => {
    await expect(startPreviewServer({ zip: zipSync({ "../evil": new Uint8Array([1]) }) })).rejects.toThrow(
      /not a safe relative path/,
    );
  });

  it("pigeonhole preview prints its URL, serves the bundle, and stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [CLI, "preview", bundle, "--port", "0"], {
      env: cliEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let stdout = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (data: Buffer) => {
          stdout += data.toString();
          const match = /preview: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
          if (match?.[1]) resolve(match[1]);
        });
        child.on("exit", (code) => reject(new Error(`preview exited ${code}`)));
      });
      const res = await fetch(`${url}_astro/app.js`);
      expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
      expect(await res.text()).toBe(FILES["_astro/app.js"]);
      child.kill("SIGTERM");
      const [code] = await once(child, "exit");
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });
});
