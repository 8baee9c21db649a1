import preact from "@astrojs/preact";
import { defineConfig } from "astro/config";

/**
 * The viewer build (`npm run build:viewer` → viewer/dist, copied into every bundle by the exporter).
 *
 * - `assetsPrefix: "."` makes every asset URL relative (`./_astro/…`), so a bundle works under any path
 *   of any static host; `format: "file"` gives a plain `index.html`.
 * - No asset is inlined as a data URL (`assetsInlineLimit: 0`): the sql.js WASM file ships as a file.
 * - The Content-Security-Policy (a <meta> tag; Astro adds hashes for its own inline scripts) keeps
 *   everything on the bundle's origin: scripts only from the bundle (and WebAssembly compilation),
 *   images from the bundle, `data:` and `blob:` (attachments), no plugins, frames, base URL or form
 *   targets. `connect-src` allows http(s) because `?bundle=<url>` may name a bundle on another origin.
 */
export default defineConfig({
  build: { format: "file", assetsPrefix: "." },
  integrations: [preact()],
  vite: { build: { assetsInlineLimit: 0 } },
  experimental: {
    csp: {
      directives: [
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self' http: https: blob:",
        "object-src 'none'",
        "frame-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
      ],
      scriptDirective: { resources: ["'self'", "'wasm-unsafe-eval'"] },
    },
  },
});
