import { fail } from "../../engine/errors.js";
import { isSafeBundlePath } from "../bundle-format.js";
import type { BundleReader } from "./reader.js";

const MAX_REDIRECTS = 5;
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * A `BundleReader` over a bundle published at an http(s) URL (the bundle's directory; a trailing
 * `index.html` or `manifest.json` is dropped). A web server cannot be listed, so `list()` is null. A
 * redirect is followed only within the same origin (at most 5), so a bundle cannot pull files from
 * elsewhere; 404 and 410 mean the file is missing; other errors throw.
 */
export function urlReader(url: string): BundleReader {
  const base = bundleBase(url);
  return {
    source: base.href,
    list: async () => null,
    async read(path, limit) {
      if (!isSafeBundlePath(path)) throw new Error(`unsafe path ${JSON.stringify(path)}`);
      const target = new URL(path.split("/").map(encodeURIComponent).join("/"), base);
      const response = await fetchSameOrigin(target, base.origin);
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel();
        return null;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`HTTP ${response.status} from ${target.href}`);
      }
      return readBodyAtMost(response, limit + 1);
    },
    close: async () => {},
  };
}

/** The bundle's base URL, ending in `/`. Throws INVALID_ARGUMENT for anything but http(s). */
export function bundleBase(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail.invalid(`${url} is not a URL.`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw fail.invalid(`${url}: only http and https bundle URLs are supported.`);
  }
  parsed.search = "";
  parsed.hash = "";
  parsed.pathname = parsed.pathname.replace(/\/(index\.html|manifest\.json)$/, "/");
  if (!parsed.pathname.endsWith("/")) parsed.pathname += "/";
  return parsed;
}

/** GET `url`, following redirects only while they stay on `origin`. */
export async function fetchSameOrigin(url: URL, origin: string): Promise<Response> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const response = await fetch(current, {
      redirect: "manual",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status > 399 || location === null) return response;
    await response.body?.cancel();
    const next = new URL(location, current);
    if (next.origin !== origin)
      throw new Error(`${current.href} redirects to another origin (${next.origin}); refused`);
    if (hop >= MAX_REDIRECTS) throw new Error(`${url.href}: more than ${MAX_REDIRECTS} redirects`);
    current = next;
  }
}

/** The first `max` bytes of a response body (all of it when shorter); the rest is never downloaded. */
export async function readBodyAtMost(response: Response, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const body = response.body?.getReader();
  while (body && total < max) {
    const { done, value } = await body.read();
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  await body?.cancel();
  const out = new Uint8Array(Math.min(total, max));
  let offset = 0;
  for (const part of parts) {
    const take = part.subarray(0, out.length - offset);
    out.set(take, offset);
    offset += take.length;
  }
  return out;
}
