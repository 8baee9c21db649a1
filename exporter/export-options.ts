import { isAbsolute, join, relative, resolve } from "node:path";
import { fail } from "../engine/errors.js";
import { resolveHome } from "../engine/mailbox.js";
import { DEFAULT_CHUNK_BYTES, type ScrubPreset } from "./bundle-format.js";
import { DEFAULT_MAX_ATTACHMENT_BYTES } from "./pipeline/attachments.js";
import { defaultViewerDir } from "./pipeline/bundle-files.js";
import { MIN_CHUNK_BYTES } from "./pipeline/chunk.js";
import { type EncryptionSpec, encryptionSpec } from "./pipeline/encrypt.js";
import { loadPseudonymKey, randomPseudonymKey } from "./pipeline/pseudonymize.js";
import { SCRUB_PRESETS } from "./pipeline/scrub.js";

/** The largest accepted chunk size: 2 GiB minus one, far above what any static host serves comfortably. */
export const MAX_CHUNK_BYTES = 2 ** 31 - 1;

/** The export pipeline's stages, in order. `chunk` includes encryption when encrypting (one streaming pass). */
export const STAGES = [
  "snapshot",
  "scope",
  "scrub",
  "pseudonymize",
  "finalize",
  "chunk",
  "write",
  "sign",
  "publish",
] as const;
export type StageName = (typeof STAGES)[number];

/** Progress reported while exporting. `done`/`total` count rows (scrub, pseudonymize) or bytes (chunk). */
export interface ProgressEvent {
  stage: StageName;
  phase: "start" | "update" | "end";
  done?: number;
  total?: number;
}

/** Options of `exportBundle`; the CLI's flags map one to one. */
export interface ExportOptions {
  /** The bundle directory to create (with `zip`: the zip file). */
  out: string;
  /** Mailbox directory; default PIGEONHOLE_HOME or ~/.pigeonhole. */
  home?: string;
  /** Slugs or human keys of the projects to export; default all. */
  projects?: readonly string[];
  /** Default `standard`. */
  scrub?: ScrubPreset;
  pseudonymize?: boolean;
  /** File holding the pseudonym HMAC key (stable pseudonyms across exports); needs `pseudonymize`. */
  pseudonymKeyFile?: string;
  /** Ed25519 signing key file (see `pigeonhole keygen`). */
  signKeyFile?: string;
  /** age X25519 public keys to encrypt to. */
  recipients?: readonly string[];
  /** File holding the passphrase to encrypt to. */
  passphraseFile?: string;
  /** Default DEFAULT_CHUNK_BYTES; at least MIN_CHUNK_BYTES. */
  chunkSize?: number;
  /** Write `out` as one zip file instead of a directory. */
  zip?: boolean;
  /** Replace an existing `out`. */
  force?: boolean;
  /** Attachments larger than this are left out (status `omitted`). Default DEFAULT_MAX_ATTACHMENT_BYTES. */
  maxAttachmentBytes?: number;
  /** The built viewer to copy in; default `viewer/dist` of this package when built; null: none. */
  viewerDir?: string | null;
  /** Recorded in the manifest. Default `{ name: "pigeonhole", version: "unknown" }`. */
  generator?: { name: string; version: string };
  /**
   * Called on stage start/end and as work advances. An exception thrown here aborts the export (cleanly:
   * nothing is published and the staging directory is removed).
   */
  onProgress?: (event: ProgressEvent) => void;
  /** Aborting stops the export at the next stage boundary, with the same cleanup as a failure. */
  signal?: AbortSignal;
  /** Clock for `generated_at`. */
  now?: () => Date;
}

/** Options checked and defaulted: everything that can be refused is refused before any work starts. */
export interface ResolvedExport {
  out: string;
  home: string;
  database: string;
  projects: readonly string[];
  preset: ScrubPreset;
  pseudonymKey: Uint8Array | null;
  signKeyFile: string | null;
  encryption: EncryptionSpec | null;
  chunkSize: number;
  zip: boolean;
  force: boolean;
  maxAttachmentBytes: number;
  viewerDir: string | null;
  generator: { name: string; version: string };
}

/**
 * Check and default `options` (INVALID_ARGUMENT / NOT_FOUND with a hint for each bad one): a known scrub
 * preset, a chunk size from MIN_CHUNK_BYTES to MAX_CHUNK_BYTES, `pseudonymKeyFile` only with
 * `pseudonymize`, a usable encryption (encrypt.ts), a readable pseudonym key.
 */
export function resolveExportOptions(options: ExportOptions): ResolvedExport {
  if (!options.out || options.out.trim() === "")
    throw fail.invalid("--out is required: the bundle directory to write.");
  const preset = options.scrub ?? "standard";
  if (!SCRUB_PRESETS.includes(preset)) {
    throw fail.invalid(`--scrub must be one of ${SCRUB_PRESETS.join(", ")}; got ${JSON.stringify(preset)}.`);
  }
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < MIN_CHUNK_BYTES || chunkSize > MAX_CHUNK_BYTES) {
    throw fail.invalid(
      `--chunk-size must be a whole number of bytes from ${MIN_CHUNK_BYTES} (64 KiB) to ${MAX_CHUNK_BYTES}; got ${chunkSize}.`,
    );
  }
  if (options.pseudonymKeyFile !== undefined && !options.pseudonymize) {
    throw fail.invalid("--pseudonym-key only makes sense with --pseudonymize; add --pseudonymize.");
  }
  const maxAttachmentBytes = options.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES;
  if (!Number.isSafeInteger(maxAttachmentBytes) || maxAttachmentBytes < 0) {
    throw fail.invalid(`maxAttachmentBytes must be a whole number of bytes; got ${maxAttachmentBytes}.`);
  }
  const home = resolveHome(options.home);
  const out = resolve(options.out);
  const fromOut = relative(out, home);
  if (fromOut === "" || (!fromOut.startsWith("..") && !isAbsolute(fromOut))) {
    throw fail.invalid(
      `--out ${out} contains the mailbox (${home}); writing there would replace it. Choose a directory outside the mailbox.`,
    );
  }
  return {
    out,
    home,
    // The engine's file name inside a mailbox home (engine/mailbox.ts).
    database: join(home, "mailbox.sqlite3"),
    projects: [...(options.projects ?? [])],
    preset,
    pseudonymKey: options.pseudonymize
      ? options.pseudonymKeyFile === undefined
        ? randomPseudonymKey()
        : loadPseudonymKey(options.pseudonymKeyFile)
      : null,
    signKeyFile: options.signKeyFile ?? null,
    encryption: encryptionSpec(options.recipients ?? [], options.passphraseFile),
    chunkSize,
    zip: options.zip ?? false,
    force: options.force ?? false,
    maxAttachmentBytes,
    viewerDir: options.viewerDir === undefined ? defaultViewerDir() : options.viewerDir,
    generator: options.generator ?? { name: "pigeonhole", version: "unknown" },
  };
}
