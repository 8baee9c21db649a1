/**
 * A browser cache of database payloads keyed by the manifest's `database.sha256`: the joined chunks
 * exactly as downloaded (still encrypted for an encrypted bundle, so nothing private is stored in the
 * clear). A cached copy is used only after its sha256 is checked again, so a damaged or planted entry is
 * ignored. The Cache API exists only in secure contexts (https, localhost); elsewhere nothing is cached.
 */
const CACHE_NAME = "pigeonhole-viewer-db-v1";

function keyUrl(sha256: string): string {
  return new URL(`./__pigeonhole_cache__/db-${sha256}`, document.baseURI).href;
}

/** The cached payload for `sha256`, or null (no cache, no entry, or any storage error). */
export async function cachedPayload(sha256: string): Promise<Uint8Array | null> {
  try {
    if (typeof caches === "undefined") return null;
    const cache = await caches.open(CACHE_NAME);
    const response = await cache.match(keyUrl(sha256));
    return response ? new Uint8Array(await response.arrayBuffer()) : null;
  } catch {
    return null;
  }
}

/** Store a verified payload under its sha256, dropping older entries; storage errors are ignored. */
export async function cachePayload(sha256: string, bytes: Uint8Array): Promise<void> {
  try {
    if (typeof caches === "undefined") return;
    const cache = await caches.open(CACHE_NAME);
    for (const request of await cache.keys()) await cache.delete(request);
    await cache.put(keyUrl(sha256), new Response(bytes as Uint8Array<ArrayBuffer>));
  } catch {
    // A full or disabled storage only costs a download next time.
  }
}
