import { latency } from "../measure.js";
import type { MachineInfo } from "../report.js";
import { formatMarkdownTable, formatTextTable, type Table, writeGeneratedSection } from "../tables.js";
import type { Audit } from "./audit.js";
import type { Channel, OperationStats } from "./protocol.js";

/**
 * The stress report: one JSON document (`--json`), a plain-text table for the terminal and the same
 * tables in Markdown for docs/RELIABILITY.md (`--markdown`), all built from the same figures.
 */

/** One operation of one channel in one phase, summed over the workers doing it. */
export interface OperationRow {
  phase: string;
  channel: Channel;
  operation: string;
  calls: number;
  ok: number;
  errors: Record<string, number>;
  /** Successful calls per second over the phase. */
  ok_per_s: number;
  p50_ms: number | null;
  p99_ms: number | null;
}

/** One SIGKILL round: what was acknowledged before the kill, and the audit after the restart. */
export interface KillRound {
  round: number;
  /** Sends acknowledged (all senders, all rounds so far) when the server was killed. */
  acknowledged_before_kill: number;
  /** Milliseconds from the kill until the restarted server answered `/health`. */
  restart_ms: number;
  lost: number;
  duplicated: number;
  clean: boolean;
}

/** A named pass/fail check with what it found. */
export interface Check {
  check: string;
  ok: boolean | null;
  detail: string;
}

export interface StressReport {
  machine: MachineInfo;
  /** 1-minute load average when the run ended: other work on the machine during the run shows here. */
  load_at_end: number;
  options: Record<string, number | string | boolean>;
  started_at: string;
  duration_s: number;
  operations: OperationRow[];
  audits: { phase: string; audit: Audit }[];
  kill_rounds: KillRound[];
  checks: Check[];
  /** True when nothing was lost or duplicated and every check passed. */
  ok: boolean;
}

/** Sum the workers' tallies into one row per (channel, operation) for `phase`, which lasted `seconds`. */
export function operationRows(
  phase: string,
  tallies: { channel: Channel; stats: OperationStats[] }[],
  seconds: number,
): OperationRow[] {
  const rows = new Map<string, OperationRow & { samples: number[] }>();
  for (const { channel, stats } of tallies) {
    for (const s of stats) {
      const key = `${channel} ${s.operation}`;
      let row = rows.get(key);
      if (!row) {
        row = {
          phase,
          channel,
          operation: s.operation,
          calls: 0,
          ok: 0,
          errors: {},
          ok_per_s: 0,
          p50_ms: null,
          p99_ms: null,
          samples: [],
        };
        rows.set(key, row);
      }
      row.ok += s.ok;
      row.calls += s.ok;
      for (const [code, n] of Object.entries(s.errors)) {
        row.errors[code] = (row.errors[code] ?? 0) + n;
        row.calls += n;
      }
      row.samples.push(...s.latenciesNs);
    }
  }
  return [...rows.values()]
    .sort((a, b) => a.channel.localeCompare(b.channel) || a.operation.localeCompare(b.operation))
    .map(({ samples, ...row }) => {
      const rate = { ...row, ok_per_s: Math.round((row.ok / seconds) * 10) / 10 };
      if (samples.length === 0) return rate;
      const l = latency(samples);
      return { ...rate, p50_ms: round(l.p50), p99_ms: round(l.p99) };
    });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

const CHANNEL_LABEL: Record<Channel, string> = {
  mcp: "MCP (Streamable HTTP)",
  rest: "REST /v1",
  engine: "engine (in-process)",
};

function errorsCell(errors: Record<string, number>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return entries.length ? entries.map(([code, n]) => `${code} ${n}`).join(", ") : "none";
}

function ms(value: number | null): string {
  return value === null ? "-" : value.toFixed(value >= 100 ? 0 : 1);
}

function tables(report: StressReport): Table[] {
  const audits = report.audits.map(({ phase, audit }) => [
    phase,
    String(audit.acknowledged),
    String(audit.lost),
    String(audit.duplicated),
    String(audit.mismatched),
    String(audit.refused_but_stored),
    `${audit.in_doubt_stored} of ${audit.in_doubt}`,
  ]);
  const kills = report.kill_rounds;
  const killSummary = kills.length
    ? [
        [
          String(kills.length),
          String(kills.at(-1)?.acknowledged_before_kill ?? 0),
          String(Math.max(...kills.map((k) => k.restart_ms))),
          String(kills.reduce((n, k) => n + k.lost, 0)),
          String(kills.reduce((n, k) => n + k.duplicated, 0)),
          String(kills.filter((k) => k.clean).length),
        ],
      ]
    : [];
  return [
    {
      title: "Operations",
      head: ["phase", "channel", "operation", "calls", "ok", "ok/s", "errors by code", "p50 ms", "p99 ms"],
      rows: report.operations.map((r) => [
        r.phase,
        CHANNEL_LABEL[r.channel],
        r.operation,
        String(r.calls),
        String(r.ok),
        r.ok_per_s.toFixed(1),
        errorsCell(r.errors),
        ms(r.p50_ms),
        ms(r.p99_ms),
      ]),
      numeric: [3, 4, 5, 7, 8],
    },
    {
      title: "Acknowledged sends against the database",
      head: [
        "audit",
        "acknowledged",
        "lost",
        "duplicated",
        "mismatched",
        "refused yet stored",
        "in doubt: stored",
      ],
      rows: audits,
      numeric: [1, 2, 3, 4, 5],
    },
    {
      title: "SIGKILL rounds (each followed by a restart and an audit)",
      head: [
        "rounds",
        "acknowledged before last kill",
        "slowest restart ms",
        "lost",
        "duplicated",
        "clean rounds",
      ],
      rows: killSummary,
      numeric: [0, 1, 2, 3, 4, 5],
    },
    {
      title: "Checks",
      head: ["check", "result", "detail"],
      rows: report.checks.map((c) => [c.check, c.ok === null ? "skipped" : c.ok ? "ok" : "FAILED", c.detail]),
      numeric: [],
    },
  ];
}

function machineLine(report: StressReport): string {
  const m = report.machine;
  return `${m.cpu}, ${m.cores} cores, ${m.memory_gb} GB, Node ${m.node}, ${m.platform}; load average ${m.load_at_start} at start, ${report.load_at_end} at end`;
}

function optionsLine(report: StressReport): string {
  return Object.entries(report.options)
    .map(([k, v]) => `--${k} ${v}`)
    .join(" ");
}

/** The report as padded plain-text tables. */
export function formatText(report: StressReport): string {
  const out = [`Machine: ${machineLine(report)}`, `Options: ${optionsLine(report)}`, ""];
  for (const t of tables(report)) out.push(...formatTextTable(t), "");
  out.push(`Result: ${report.ok ? "ok (lost = 0, duplicated = 0)" : "FAILED"} in ${report.duration_s} s`);
  return `${out.join("\n")}\n`;
}

/** The report as Markdown: machine, options, then each table. */
export function formatMarkdown(report: StressReport): string {
  const out = [
    `Measured ${report.started_at.slice(0, 10)} in ${report.duration_s} s on: ${machineLine(report)}.`,
    "",
    `Options: \`${optionsLine(report)}\``,
    "",
  ];
  for (const t of tables(report)) out.push(`**${t.title}**`, "", ...formatMarkdownTable(t), "");
  out.push(`Result: **${report.ok ? "ok (lost = 0, duplicated = 0)" : "FAILED"}**.`);
  return out.join("\n");
}

/**
 * Write the Markdown report into `path` between the generated-section markers, keeping the rest of the
 * file; a file without the markers gets the section appended.
 */
export function writeMarkdownSection(path: string, report: StressReport): void {
  writeGeneratedSection(path, "stress", "npm run stress", formatMarkdown(report));
}
