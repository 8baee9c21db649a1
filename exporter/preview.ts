import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { isIP } from "node:net";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fail, PigeonholeError } from "../engine/errors.js";
import { ATTACHMENTS_DIR, isSafeBundlePath } from "./bundle-format.js";
import { parseRange } from "./http-range.js";
import { contentTypeFor } from "./mime-types.js";
import type { BundleReader } from "./verify/reader.js";
import { zipReader } from "./verify/zip-reader.js";

/**
 * A local web server for one bundle, so the viewer runs as it would on a static host: GET and HEAD only,
 * correct Content-Types, single `Range` requests (206/416), `Cache-Control: no-store` on every response
 * (a re-exported bundle is never served stale), no directory listings, and only regular files inside the
 * bundle (unsafe paths get 403, symbolic links 404). It listens on loopback only, and answers only
 * requests whose Host names this machine, so a web page cannot read the bundle through DNS rebinding.
 */

export interface PreviewOptions {
  /** A bundle directory; or give `zip`. */
  root?: string;
  /** A bundle zip's bytes, served from memory (checked as `zipReader` does). */
  zip?: Uint8Array;
  /** Loopback address to listen on; default 127.0.0.1. */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
}

export interface PreviewServer {
  /** Base URL ending in `/`, e.g. `http://127.0.0.1:41234/`. */
  url: string;
  port: number;
  /** Stop listening and drop open connections. Idempotent. */
  close(): Promise<void>;
}

/** One servable file: its size and a stream of a byte range of it. */
interface PreviewFile {
  size: number;
  stream(start: number, end: number): Readable;
}

type FileSource = (path: string) => Promise<PreviewFile | null>;

const ATTACHMENT_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'";
const COMMON_HEADERS = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/**
 * Start serving a bundle (directory or zip). Throws INVALID_ARGUMENT for a non-loopback host or when
 * neither or both of `root` and `zip` are given, CONFLICT when the port is taken.
 */
export async function startPreviewServer(options: PreviewOptions): Promise<PreviewServer> {
  const host = options.host ?? "127.0.0.1";
  if (!isLoopbackAddress(host)) {
    throw fail.invalid(
      `Refusing to serve on ${host}: preview listens on loopback only (127.0.0.1, ::1, localhost).`,
    );
  }
  if ((options.root === undefined) === (options.zip === undefined)) {
    throw fail.invalid("Give a bundle directory or a zip to preview (exactly one).");
  }
  const source =
    options.root !== undefined
      ? await directorySource(options.root)
      : zipSource(zipReader(options.zip as Uint8Array, "zip"));
  const server = createServer((req, res) => {
    handle(source, req, res).catch(() => {
      if (!res.headersSent) send(res, 500, "internal error");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? fail.conflict(`Port ${options.port} on ${host} is in use; choose another --port.`)
          : error,
      ),
    );
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  if (typeof address !== "object" || address === null)
    throw new PigeonholeError("INTERNAL", "preview server has no address");
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${address.port}/`,
    port: address.port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handle(source: FileSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!hostIsLocal(req.headers.host)) return send(res, 403, "forbidden: Host is not this machine");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return send(res, 405, "method not allowed");
  }
  const path = bundlePathOf(req.url ?? "/");
  if (path === null) return send(res, 403, "forbidden path");
  const file = await source(path);
  if (!file) return send(res, 404, "not found");
  const range = parseRange(req.headers.range, file.size);
  const headers: Record<string, string | number> = {
    ...COMMON_HEADERS,
    "Content-Type": contentTypeFor(path),
    "Accept-Ranges": "bytes",
  };
  // Attachments are whatever agents attached (an SVG or HTML file may carry script): opened directly they
  // run sandboxed, in no origin, so they can never reach the viewer's.
  if (path.startsWith(`${ATTACHMENTS_DIR}/`)) headers["Content-Security-Policy"] = ATTACHMENT_CSP;
  if (range === "unsatisfiable") {
    res.writeHead(416, { ...COMMON_HEADERS, "Content-Range": `bytes */${file.size}`, "Content-Length": 0 });
    return void res.end();
  }
  const { start, end } = range ?? { start: 0, end: file.size - 1 };
  if (range) headers["Content-Range"] = `bytes ${start}-${end}/${file.size}`;
  headers["Content-Length"] = Math.max(0, end - start + 1);
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === "HEAD" || file.size === 0) return void res.end();
  file.stream(start, end).pipe(res);
}

/**
 * The bundle path a request URL names (`/` and `dir/` mean their index.html), or null when it is not a
 * safe bundle path once percent-decoded (`..`, `%2e%2e`, backslashes, NUL, malformed escapes).
 */
function bundlePathOf(url: string): string | null {
  const pathname = url.split(/[?#]/, 1)[0] ?? "/";
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (!decoded.startsWith("/")) return null;
  const path = decoded.slice(1) + (decoded.endsWith("/") ? "index.html" : "");
  return isSafeBundlePath(path) ? path : null;
}

async function directorySource(root: string): Promise<FileSource> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    if (!(await stat(realRoot)).isDirectory()) throw new Error("not a directory");
  } catch {
    throw fail.notFound(`No bundle directory at ${root}.`);
  }
  return async (path) => {
    const full = join(realRoot, ...path.split("/"));
    try {
      // A symbolic link (or a path through one) could point anywhere on the machine: not served.
      if ((await realpath(full)) !== full) return null;
      const info = await stat(full);
      if (!info.isFile()) return null;
      return { size: info.size, stream: (start, end) => createReadStream(full, { start, end }) };
    } catch {
      return null;
    }
  };
}

function zipSource(reader: BundleReader): FileSource {
  return async (path) => {
    const bytes = await reader.read(path, Number.MAX_SAFE_INTEGER - 1);
    if (!bytes) return null;
    return { size: bytes.length, stream: (start, end) => Readable.from([bytes.subarray(start, end + 1)]) };
  };
}

function send(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { ...COMMON_HEADERS, "Content-Type": "text/plain; charset=utf-8" });
  res.end(`${message}\n`);
}

/** Loopback bind addresses: 127.0.0.0/8, ::1 and localhost. */
function isLoopbackAddress(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (name === "localhost") return true;
  if (isIP(name) === 4) return name.startsWith("127.");
  return name === "::1";
}

function hostIsLocal(header: string | undefined): boolean {
  if (header === undefined) return true;
  const name = header.replace(/^(\[[^\]]*\]|[^:]*).*$/, "$1");
  return isLoopbackAddress(name) || name.toLowerCase().endsWith(".localhost");
}
