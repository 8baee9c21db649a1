import { MultiBar, Presets, type SingleBar } from "cli-progress";
import { InvalidArgumentError, Option } from "commander";
import { DEFAULT_CHUNK_BYTES } from "../../exporter/bundle-format.js";
import {
  type ExportSummary,
  exportBundle,
  type ProgressEvent,
  type StageName,
} from "../../exporter/export.js";
import { MAX_CHUNK_BYTES } from "../../exporter/export-options.js";
import { MIN_CHUNK_BYTES } from "../../exporter/pipeline/chunk.js";
import { SCRUB_PRESETS } from "../../exporter/pipeline/scrub.js";
import { PACKAGE } from "../version.js";
import type { CliCommand } from "./command.js";
import { addHomeOption } from "./options.js";

interface ExportCliOptions {
  out: string;
  home?: string;
  project: string[];
  scrub: "standard" | "strict" | "archive";
  pseudonymize?: boolean;
  pseudonymKey?: string;
  signKey?: string;
  recipient: string[];
  passphraseFile?: string;
  chunkSize: number;
  zip?: boolean;
  force?: boolean;
  json?: boolean;
}

/** `pigeonhole export`: the exporter pipeline (exporter/export.ts) with progress bars and a summary. */
export const exportCommand: CliCommand = {
  name: "export",
  summary: "export the mailbox as a static bundle: scrubbed, optionally pseudonymized, encrypted, signed",
  define(cmd) {
    cmd
      .requiredOption("--out <dir>", "bundle directory to create (with --zip: the zip file)")
      .option(
        "--project <key>",
        "export only this project (slug or human key); repeat for several (default: all)",
        collect,
        [],
      )
      .addOption(
        new Option(
          "--scrub <preset>",
          "standard: secrets redacted; strict: also bodies, payloads, attachments; archive: lossless",
        )
          .choices([...SCRUB_PRESETS])
          .default("standard"),
      )
      .option("--pseudonymize", "replace every agent name by a keyed pseudonym everywhere")
      .option(
        "--pseudonym-key <file>",
        "file holding the pseudonym key (same key, same pseudonyms across exports)",
      )
      .option("--sign-key <file>", "Ed25519 key file (from pigeonhole keygen) to sign the manifest with")
      .option(
        "--recipient <age-pubkey>",
        "encrypt the database to this age X25519 public key (age1...); repeat for several",
        collect,
        [],
      )
      .option("--passphrase-file <file>", "encrypt the database to the passphrase in this file")
      .option(
        "--chunk-size <bytes>",
        `database chunk size in bytes, or with a K/M/G suffix (min 64K; default ${DEFAULT_CHUNK_BYTES / 1024 / 1024}M)`,
        parseSize,
        DEFAULT_CHUNK_BYTES,
      )
      .option("--zip", "write the bundle as one zip file at --out instead of a directory")
      .option("--force", "replace an existing --out")
      .option("--json", "print the summary as JSON");
    addHomeOption(cmd);
    cmd.action((options: ExportCliOptions) => runExport(options));
  },
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Bytes, or a number with a K, M or G suffix (powers of 1024), within the accepted chunk sizes. */
function parseSize(value: string): number {
  const match = /^(\d+)\s*([kmg])?i?b?$/i.exec(value.trim());
  const unit =
    { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match?.[2] ?? "").toLowerCase() as "k" | "m" | "g"] ?? 1;
  const bytes = match ? Number(match[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < MIN_CHUNK_BYTES || bytes > MAX_CHUNK_BYTES) {
    throw new InvalidArgumentError(
      `expected a size from 64K (${MIN_CHUNK_BYTES} bytes) to ${MAX_CHUNK_BYTES} bytes.`,
    );
  }
  return bytes;
}

async function runExport(options: ExportCliOptions): Promise<void> {
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write("\ninterrupted: stopping the export and removing its staging directory\n");
    abort.abort(new Error("export interrupted; nothing was published"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const bars = process.stderr.isTTY ? new StageBars() : null;
  try {
    const summary = await exportBundle({
      out: options.out,
      ...(options.home === undefined ? {} : { home: options.home }),
      projects: options.project,
      scrub: options.scrub,
      pseudonymize: options.pseudonymize ?? false,
      ...(options.pseudonymKey === undefined ? {} : { pseudonymKeyFile: options.pseudonymKey }),
      ...(options.signKey === undefined ? {} : { signKeyFile: options.signKey }),
      recipients: options.recipient,
      ...(options.passphraseFile === undefined ? {} : { passphraseFile: options.passphraseFile }),
      chunkSize: options.chunkSize,
      zip: options.zip ?? false,
      force: options.force ?? false,
      generator: { name: PACKAGE.name, version: PACKAGE.version },
      signal: abort.signal,
      ...(bars ? { onProgress: (event: ProgressEvent) => bars.on(event) } : {}),
    });
    bars?.stop();
    process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : describe(summary));
  } finally {
    bars?.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** One progress bar per stage, on stderr (only used when stderr is a terminal). */
class StageBars {
  private readonly multi = new MultiBar(
    {
      stream: process.stderr,
      format: "{stage} |{bar}| {percentage}% {detail}",
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
    },
    Presets.shades_classic,
  );
  private readonly bars = new Map<StageName, SingleBar>();
  private stopped = false;

  on(event: ProgressEvent): void {
    let bar = this.bars.get(event.stage);
    if (!bar) {
      bar = this.multi.create(1, 0, { stage: event.stage.padEnd(12), detail: "" });
      this.bars.set(event.stage, bar);
    }
    if (event.phase === "update" && event.total !== undefined && event.done !== undefined) {
      bar.setTotal(Math.max(1, event.total));
      bar.update(event.done, { detail: `${event.done}/${event.total}` });
    } else if (event.phase === "end") {
      bar.update(bar.getTotal(), { detail: "done" });
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multi.stop();
  }
}

/** The human-readable summary: counts and sizes only. */
function describe(s: ExportSummary): string {
  const c = s.counts.exported;
  const redactions = Object.values(s.redactions).reduce((a, b) => a + b, 0);
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  const lines = [
    `Exported ${c.messages} messages, ${c.agents} agents, ${c.projects} projects to ${s.out}${s.format === "zip" ? " (zip)" : ""}.`,
    `Scrub: ${s.scrub}, ${redactions} redactions${s.pseudonymized ? ", pseudonymized" : ""}; ${s.encryption ? `encrypted (${s.encryption.mode})` : "not encrypted"}; ${s.signed ? "signed" : "unsigned"}${s.viewer ? "" : "; no viewer (not built)"}.`,
    `Database ${mib(s.bytes.database)} in ${s.chunks} chunk(s); bundle ${mib(s.bytes.bundle)}; ${(s.timings_ms.total / 1000).toFixed(1)} s.`,
  ];
  return `${lines.join("\n")}\n`;
}
