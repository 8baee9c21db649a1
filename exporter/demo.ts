import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isPigeonholeError } from "../engine/errors.js";
import { seedMailbox } from "../fixtures/seed.js";
import { exportBundle } from "./export.js";
import { generateKeyFiles } from "./keys.js";
import { type PreviewServer, startPreviewServer } from "./preview.js";

/**
 * `pigeonhole demo`: a sample mailbox, exported as a signed bundle and served on loopback, in one
 * temporary directory that is removed on close (unless kept), so a newcomer sees the viewer, the
 * signature badge and `verify` at work without touching a real mailbox.
 */

export interface DemoOptions {
  /** Messages in the sample mailbox. */
  messages: number;
  /** Port to serve on; 0 picks a free one. */
  port: number;
  /** When the port is taken, serve on a free one instead of failing (for the default port). */
  fallbackPort?: boolean;
  /** Keep the temporary directory on close. */
  keep?: boolean;
  /** Told as each step starts (for progress lines). */
  onStep?: (step: "seed" | "keygen" | "export" | "serve", dir: string) => void;
  /** Stops the set-up between steps (and the export at its next stage); the directory is removed. */
  signal?: AbortSignal;
  /** Recorded as the bundle's generator. */
  generator?: { name: string; version: string };
}

export interface Demo {
  /** The bundle's address, e.g. `http://127.0.0.1:8767/`. */
  url: string;
  /** The same with the signing key pinned (`#key=`): the viewer then refuses any other key. */
  pinnedUrl: string;
  fingerprint: string;
  /** Base64 Ed25519 public key, as `verify --public-key` takes it. */
  publicKey: string;
  /** The temporary directory: `home/` (mailbox), `keys/demo.key*`, `bundle/`. */
  dir: string;
  /** The bundle holds the viewer (false when this installation has no built viewer). */
  viewer: boolean;
  messages: number;
  /** Stop serving and, unless `keep`, remove the directory. Idempotent. */
  close(): Promise<void>;
}

/**
 * Seed `messages` messages into a new temporary mailbox, create a signing key next to it, export the
 * mailbox as a signed bundle (scrub preset `standard`) and serve it on 127.0.0.1. On any failure or
 * abort during set-up the directory is removed (unless `keep`) and the error is thrown.
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const dir = await mkdtemp(join(tmpdir(), "pigeonhole-demo-"));
  const discard = () => (options.keep ? Promise.resolve() : rm(dir, { recursive: true, force: true }));
  let server: PreviewServer | undefined;
  try {
    const step = (name: Parameters<NonNullable<DemoOptions["onStep"]>>[0]) => {
      options.signal?.throwIfAborted();
      options.onStep?.(name, dir);
    };
    step("seed");
    const home = join(dir, "home");
    const seeded = await seedMailbox({ home, messages: options.messages, seed: "pigeonhole demo" });
    step("keygen");
    await mkdir(join(dir, "keys"), { mode: 0o700 });
    const key = await generateKeyFiles(join(dir, "keys", "demo.key"));
    step("export");
    const bundle = join(dir, "bundle");
    const exported = await exportBundle({
      home,
      out: bundle,
      scrub: "standard",
      signKeyFile: key.files.secret,
      ...(options.generator ? { generator: options.generator } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    step("serve");
    server = await serve(bundle, options);
    let closing: Promise<void> | undefined;
    const running = server;
    return {
      url: running.url,
      pinnedUrl: `${running.url}#key=${encodeURIComponent(key.publicKey)}`,
      fingerprint: key.fingerprint,
      publicKey: key.publicKey,
      dir,
      viewer: exported.viewer,
      messages: seeded.messages,
      close: () => {
        closing ??= running.close().then(discard);
        return closing;
      },
    };
  } catch (error) {
    await server?.close();
    await discard();
    throw error;
  }
}

async function serve(root: string, options: DemoOptions): Promise<PreviewServer> {
  try {
    return await startPreviewServer({ root, port: options.port });
  } catch (error) {
    if (!options.fallbackPort || !isPigeonholeError(error) || error.code !== "CONFLICT") throw error;
    return startPreviewServer({ root, port: 0 });
  }
}
