import preact from "@astrojs/preact";
import { defineConfig } from "astro/config";

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
        "base-uri 'none'",
        "form-action 'none'",
      ],
      scriptDirective: { resources: ["'self'", "'wasm-unsafe-eval'"] },
    },
  },
});
