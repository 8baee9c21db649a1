import { cpus, loadavg, platform, release, totalmem } from "node:os";
import type { BenchRow } from "./types.js";

/** The machine a run happened on, printed above the table and stored in the JSON. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memory_gb: number;
  node: string;
  platform: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  load_at_start: number;
}

/** Describe this machine. */
export function machineInfo(): MachineInfo {
  const cpuList = cpus();
  return {
    cpu: cpuList[0]?.model.trim() ?? "unknown",
    cores: cpuList.length,
    memory_gb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${platform()} ${release()}`,
    load_at_start: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** Peak resident set size of this process so far, in bytes. */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** A figure with about three significant digits and thousands separators. */
export function formatFigure(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "-";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const COLUMNS = ["module", "name", "figure", "unit", "baseline", "baseline figure", "ratio", "target", "met"];

/** The rows as one plain-text table (columns padded; notes listed under it). */
export function formatTable(rows: readonly (BenchRow & { module: string })[]): string {
  const cells = rows.map((r) => [
    r.module,
    r.name,
    formatFigure(r.figure),
    r.unit,
    r.baseline ?? "-",
    formatFigure(r.baseline_figure),
    r.ratio === null ? "-" : `${r.ratio.toFixed(2)}x`,
    r.target,
    r.met === null ? "-" : r.met ? "yes" : "NO",
  ]);
  const widths = COLUMNS.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const numeric = new Set([2, 5, 6]);
  const line = (c: string[]) =>
    c
      .map((v, i) => (numeric.has(i) ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join("  ")
      .trimEnd();
  const out = [line(COLUMNS), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)];
  const notes = rows.filter((r) => r.note).map((r) => `  * ${r.name}: ${r.note}`);
  if (notes.length) out.push("", "Notes:", ...notes);
  return `${out.join("\n")}\n`;
}
