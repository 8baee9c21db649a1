/**
 * The Content-Type of every kind of file a bundle holds, by extension. Anything else (database chunks,
 * `.nojekyll`) is `application/octet-stream`, which browsers never render or run.
 */
const TYPES: Readonly<Record<string, string>> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  map: "application/json",
  webmanifest: "application/manifest+json",
  wasm: "application/wasm",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/x-icon",
  woff2: "font/woff2",
  woff: "font/woff",
  ttf: "font/ttf",
  md: "text/markdown; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  minisig: "text/plain; charset=utf-8",
  pub: "text/plain; charset=utf-8",
  pdf: "application/pdf",
  zip: "application/zip",
};

/** The Content-Type for the bundle path `path`, from its extension (case-insensitive). */
export function contentTypeFor(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
  return TYPES[extension] ?? "application/octet-stream";
}
