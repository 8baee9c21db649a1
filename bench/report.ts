import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { formatMarkdownTable, formatTextTable, type Table } from "./tables.js";
import type { BenchRow, MemoryRow } from "./types.js";

/**
 * The benchmark report: one JSON document (`--json`), a plain-text table for the terminal and the same
 * tables in Markdown for docs/PERFORMANCE.md (`--markdown`), all built from the same figures.
 */

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
    load_at_start: currentLoad(),
  };
}

/** The 1-minute load average, to two decimals. */
export function currentLoad(): number {
  return Math.round((loadavg()[0] ?? 0) * 100) / 100;
}

/** Peak resident set size of this process since it started, in bytes (getrusage: never reset). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** A row of the table with the module it came from. */
export type ReportRow = BenchRow & { module: string };

/** Everything one `npm run bench` measured. */
export interface BenchReport {
  generated_at: string;
  machine: MachineInfo;
  /** 1-minute load average when the run ended. */
  load_at_end: number;
  /** The command line's options, e.g. `{ only: "engine" }`; empty for the full table. */
  options: Record<string, string>;
  duration_s: number;
  rows: ReportRow[];
  memory: MemoryRow[];
  /** Peak resident memory of the bench process over the whole run. */
  peak_rss_bytes: number;
}

/** A figure with about three significant digits and thousands separators. */
export function formatFigure(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "-";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : Math.abs(value) >= 1 ? 2 : 3;
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function mib(bytes: number | null): string {
  return bytes === null ? "-" : (bytes / 2 ** 20).toFixed(0);
}

function metCell(met: boolean | null): string {
  return met === null ? "-" : met ? "yes" : "NO";
}

const RESULT_HEAD = [
  "name",
  "figure",
  "unit",
  "baseline (same run)",
  "baseline figure",
  "ratio",
  "target",
  "met",
];

function resultCells(r: BenchRow): string[] {
  return [
    r.name,
    formatFigure(r.figure),
    r.unit,
    r.baseline ?? "-",
    formatFigure(r.baseline_figure),
    r.ratio === null ? "-" : `${r.ratio.toFixed(2)}x`,
    r.target,
    metCell(r.met),
  ];
}

function memoryTable(report: BenchReport): Table {
  return {
    title: "Peak memory",
    head: ["module", "process", "peak RSS MiB", "what it did"],
    rows: report.memory.map((m) => [m.module, m.process, mib(m.peak_bytes), m.note]),
    numeric: [2],
  };
}

/** The modules in table order, each with its rows. */
function byModule(rows: readonly ReportRow[]): [string, ReportRow[]][] {
  const groups = new Map<string, ReportRow[]>();
  for (const row of rows) groups.set(row.module, [...(groups.get(row.module) ?? []), row]);
  return [...groups];
}

function targetsLine(rows: readonly ReportRow[]): string {
  const judged = rows.filter((r) => r.met !== null);
  const missed = judged
    .filter((r) => r.met === false)
    .map((r) => (r.name.startsWith(`${r.module}:`) ? r.name : `${r.module}: ${r.name}`));
  const met = `${judged.length - missed.length} of ${judged.length} targets met`;
  return missed.length ? `${met}; missed: ${missed.join("; ")}` : met;
}

function machineLine(report: BenchReport): string {
  const m = report.machine;
  return `${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB, Node ${m.node}, ${m.platform}; load average ${m.load_at_start} at start, ${report.load_at_end} at end`;
}

/** The report as padded plain text: machine, one results table, the memory table, then the notes. */
export function formatText(report: BenchReport): string {
  const results: Table = {
    title: "Results",
    head: ["module", ...RESULT_HEAD],
    rows: report.rows.map((r) => [r.module, ...resultCells(r)]),
    numeric: [2, 5, 6],
  };
  const out = [`Machine: ${machineLine(report)}`, "", ...formatTextTable(results), ""];
  out.push(...formatTextTable(memoryTable(report)), "");
  const notes = report.rows.filter((r) => r.note).map((r) => `  * ${r.module}: ${r.name}: ${r.note}`);
  if (notes.length) out.push("Notes:", ...notes, "");
  out.push(
    `${targetsLine(report.rows)}.`,
    `Peak RSS of the bench process: ${mib(report.peak_rss_bytes)} MiB. Total time: ${report.duration_s} s.`,
  );
  return `${out.join("\n")}\n`;
}

/** The report as Markdown: machine and command, a table per module with its notes, then memory. */
export function formatMarkdown(report: BenchReport): string {
  const options = Object.entries(report.options).map(([k, v]) => `--${k} ${v}`);
  const command = options.length ? `npm run bench -- ${options.join(" ")}` : "npm run bench";
  const out = [
    `Measured ${report.generated_at.slice(0, 10)} in ${report.duration_s} s on: ${machineLine(report)}.`,
    "",
    `Command: \`${command}\`. ${targetsLine(report.rows)}.`,
    "",
  ];
  for (const [module, rows] of byModule(report.rows)) {
    out.push(`### ${module}`, "");
    out.push(...formatMarkdownTable({ head: RESULT_HEAD, rows: rows.map(resultCells), numeric: [1, 4, 5] }));
    const notes = rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`);
    if (notes.length) out.push("", ...notes);
    out.push("");
  }
  out.push("### Peak memory", "", ...formatMarkdownTable(memoryTable(report)), "");
  out.push(`Peak RSS of the bench process over the whole run: ${mib(report.peak_rss_bytes)} MiB.`);
  return out.join("\n");
}
