import { readFile, stat } from "node:fs/promises";
import { fail, LIMITS } from "../../engine/index.js";
import { startPreviewServer } from "../../exporter/preview.js";
import type { CliCommand } from "./command.js";
import { integerIn } from "./options.js";

interface PreviewOptions {
  host: string;
  port: number;
}

/** `pigeonhole preview`: serve a bundle on localhost until interrupted. */
export const previewCommand: CliCommand = {
  name: "preview",
  summary: "serve a bundle directory or .zip on localhost (MIME types, Range requests, no caching)",
  define(cmd) {
    cmd
      .argument("<path>", "bundle directory or bundle .zip (served from memory)")
      .option("--host <address>", "loopback address to listen on", "127.0.0.1")
      .option("--port <number>", "port (0 picks a free one)", integerIn(0, 65535), 8766)
      .action((path: string, options: PreviewOptions) => preview(path, options));
  },
};

async function preview(path: string, options: PreviewOptions): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw fail.notFound(`No bundle at ${path}: give a bundle directory or a bundle .zip.`);
  }
  const isDirectory = info.isDirectory();
  if (!isDirectory && info.size > LIMITS.bundleZipBytes) {
    throw fail.tooLarge(
      `${path} is larger than ${LIMITS.bundleZipBytes} bytes (bundleZipBytes); unpack it and preview the directory.`,
    );
  }
  const server = await startPreviewServer({
    ...(isDirectory ? { root: path } : { zip: new Uint8Array(await readFile(path)) }),
    host: options.host,
    port: options.port,
  });
  process.stdout.write(`preview: ${server.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
}
