import { unzipSync } from "fflate";
import { BUNDLE_FILES, isSafeBundlePath } from "../../../exporter/bundle-format.js";

/**
 * Where a bundle's files come from: the viewer's own site, a URL given with `?bundle=`, or a zip file.
 * Every path is checked with isSafeBundlePath before use, so a manifest cannot make the viewer read
 * outside the bundle.
 */
export interface BundleSource {
  /** What the user opened, for the status line (a URL or a file name). */
  label: string;
  /**
   * The bytes of one bundle file, or null when the bundle has no such file. `onProgress` is called with
   * the bytes received so far while a large file downloads.
   */
  read(path: string, onProgress?: (loaded: number) => void): Promise<Uint8Array | null>;
  /**
   * Every file path of the bundle, when the source can list them (a zip or a dropped folder; a web site
   * cannot), so that files the manifest does not list are noticed.
   */
  paths?(): string[];
}

/** Thrown when a bundle file cannot be read for a reason other than its absence. */
export class SourceError extends Error {}

function checkPath(path: string): void {
  if (!isSafeBundlePath(path)) throw new SourceError(`refusing unsafe bundle path ${JSON.stringify(path)}`);
}

/** A bundle served over HTTP(S) under `base` (a directory URL ending in `/`). */
export function httpSource(base: URL): BundleSource {
  const root = new URL(base.href.endsWith("/") ? base.href : `${base.href}/`);
  return {
    label: root.href,
    async read(path, onProgress) {
      checkPath(path);
      const url = new URL(path, root);
      let response: Response;
      try {
        response = await fetch(url, { credentials: "same-origin" });
      } catch (error) {
        throw new SourceError(`could not fetch ${url.href}: ${(error as Error).message}`);
      }
      if (response.status === 404 || response.status === 410) return null;
      if (!response.ok) throw new SourceError(`${url.href} answered HTTP ${response.status}`);
      return readBody(response, onProgress);
    },
  };
}

async function readBody(response: Response, onProgress?: (loaded: number) => void): Promise<Uint8Array> {
  if (!response.body || !onProgress) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    onProgress(loaded);
  }
  return concatBytes(parts, loaded);
}

/** Join byte arrays into one of `total` bytes (their summed length). */
export function concatBytes(
  parts: Uint8Array[],
  total = parts.reduce((n, p) => n + p.length, 0),
): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * A bundle inside a zip. The bundle root is the folder holding the shallowest `manifest.json`, so both a
 * zip of the bundle's contents and a zip of the bundle folder open. Throws when the zip holds no bundle.
 */
export function zipSource(zip: Uint8Array, label: string): BundleSource {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip);
  } catch (error) {
    throw new SourceError(`${label} is not a readable zip file (${(error as Error).message})`);
  }
  const manifests = Object.keys(entries)
    .filter((name) => name === BUNDLE_FILES.manifest || name.endsWith(`/${BUNDLE_FILES.manifest}`))
    .filter((name) => !name.startsWith("__MACOSX/"))
    .sort((a, b) => a.length - b.length);
  const manifest = manifests[0];
  if (manifest === undefined)
    throw new SourceError(`${label} holds no ${BUNDLE_FILES.manifest}: it is not a bundle`);
  const prefix = manifest.slice(0, manifest.length - BUNDLE_FILES.manifest.length);
  return {
    label,
    async read(path) {
      checkPath(path);
      return entries[prefix + path] ?? null;
    },
    paths: () => underPrefix(Object.keys(entries), prefix),
  };
}

/** The file names under `prefix` (the bundle root), relative to it; directory entries left out. */
function underPrefix(names: string[], prefix: string): string[] {
  return names.filter((n) => n.startsWith(prefix) && !n.endsWith("/")).map((n) => n.slice(prefix.length));
}

/**
 * The files of a dropped folder, keyed by their path relative to the folder. Same root rule as a zip.
 */
export function filesSource(files: Map<string, File>, label: string): BundleSource {
  const manifest = [...files.keys()]
    .filter((name) => name === BUNDLE_FILES.manifest || name.endsWith(`/${BUNDLE_FILES.manifest}`))
    .sort((a, b) => a.length - b.length)[0];
  if (manifest === undefined)
    throw new SourceError(`${label} holds no ${BUNDLE_FILES.manifest}: it is not a bundle`);
  const prefix = manifest.slice(0, manifest.length - BUNDLE_FILES.manifest.length);
  return {
    label,
    async read(path) {
      checkPath(path);
      const file = files.get(prefix + path);
      return file ? new Uint8Array(await file.arrayBuffer()) : null;
    },
    paths: () => underPrefix([...files.keys()], prefix),
  };
}
