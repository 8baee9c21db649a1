import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import Database from "better-sqlite3";
import { type ExportOptions, exportBundle } from "../exporter/export.js";
import { generateKeyFiles } from "../exporter/keys.js";
import { READ_MAILBOX_MESSAGES } from "./engine.js";
import { costRatio, cpuMs } from "./measure.js";
import { peakRss, resetPeakRss } from "./process-memory.js";
import { peakRssBytes } from "./report.js";
import type { BenchContext, BenchModule, BenchRow } from "./types.js";

/** Issue 5's target: a 100,000-message export in under 20 s, at most 10x `VACUUM INTO` of the same database. */
const TARGET_SECONDS = 20;
const TARGET_RATIO = 10;

/**
 * Exporter rows: a whole signed export of the 100,000-message bench mailbox (standard preset; then also
 * encrypted to an age recipient), against `VACUUM INTO` of the same database measured just before each
 * export: the floor for writing a compact copy of it.
 */
export const exporterBench: BenchModule = {
  name: "exporter",
  memoryNote:
    "two whole exports of the 100,000-message mailbox (signed; signed and encrypted) and VACUUM INTO",
  async run(ctx) {
    const { home } = await ctx.seededMailbox(READ_MAILBOX_MESSAGES);
    const recipient = await identityToRecipient(await generateX25519Identity());
    const signKeyFile = join(await ctx.tempDir("key"), "bundle-key");
    await generateKeyFiles(signKeyFile);
    return [
      await exportRow(ctx, home, "standard, signed", { signKeyFile }),
      await exportRow(ctx, home, "standard, signed, encrypted to 1 age recipient", {
        signKeyFile,
        recipients: [recipient],
      }),
    ];
  },
};

async function exportRow(
  ctx: BenchContext,
  home: string,
  label: string,
  options: Partial<ExportOptions>,
): Promise<BenchRow> {
  const dir = await ctx.tempDir("export");
  ctx.log(`VACUUM INTO baseline (${label})`);
  const vacuum = vacuumIntoSeconds(join(home, "mailbox.sqlite3"), join(dir, "vacuum.sqlite3"));
  ctx.log(`export (${label})`);
  const resettable = resetPeakRss();
  const cpu = cpuMs();
  const started = performance.now();
  const summary = await exportBundle({ home, out: join(dir, "bundle"), viewerDir: null, ...options });
  const seconds = (performance.now() - started) / 1000;
  const peak = (resettable ? peakRss() : null) ?? peakRssBytes();
  const ratio = costRatio(seconds, vacuum);
  const stages = Object.entries(summary.timings_ms)
    .filter(([stage]) => stage !== "total")
    .map(([stage, ms]) => `${stage} ${((ms as number) / 1000).toFixed(1)}`)
    .join(", ");
  return {
    name: `export ${summary.counts.exported.messages.toLocaleString("en-US")} messages (${label})`,
    figure: Math.round(seconds * 100) / 100,
    unit: "s",
    baseline: "VACUUM INTO of the same database",
    baseline_figure: Math.round(vacuum * 100) / 100,
    ratio,
    target: `< ${TARGET_SECONDS} s, ratio <= ${TARGET_RATIO}x`,
    met: seconds < TARGET_SECONDS && ratio !== null && ratio <= TARGET_RATIO,
    note: `stages (s): ${stages}; ${((cpuMs() - cpu) / 1000).toFixed(1)} s CPU; out ${(summary.bytes.bundle / 2 ** 20).toFixed(0)} MiB in ${summary.chunks} chunks; peak RSS ${resettable ? "during this export" : "so far"} ${(peak / 2 ** 20).toFixed(0)} MiB`,
  };
}

function vacuumIntoSeconds(database: string, target: string): number {
  const db = new Database(database, { readonly: true });
  try {
    const started = performance.now();
    db.prepare("VACUUM INTO ?").run(target);
    return (performance.now() - started) / 1000;
  } finally {
    db.close();
  }
}
