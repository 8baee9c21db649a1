import type { SeedSummary } from "../fixtures/seed.js";

/**
 * The contract between the bench runner and the bench modules (engine now; server, exporter and viewer
 * later). A module measures and returns rows; the runner prints them in one table and writes JSON.
 */

/** One line of the benchmark table: a figure, the baseline measured in the same run, and the target. */
export interface BenchRow {
  /** What was measured, e.g. "send_message (1 recipient, 512 B body, archive on)". */
  name: string;
  /** The measured figure; null when the row could not be measured (see `note`). */
  figure: number | null;
  /** Unit of `figure` and of the baseline figure, e.g. "msg/s", "ms", "s". */
  unit: string;
  /** The baseline's description, or null for an informational row without one. */
  baseline: string | null;
  baseline_figure: number | null;
  /**
   * How many times the baseline's cost ours is (ours/baseline for times, baseline/ours for rates), so
   * 1.0 means as fast as the baseline and larger is slower. Null without both figures.
   */
  ratio: number | null;
  /** The target in words, e.g. ">= 5,000 msg/s, ratio <= 3x"; "-" when there is none. */
  target: string;
  /** Whether the target was met; null when there is no target or no figure. */
  met: boolean | null;
  /** Why a row was skipped, or a remark needed to read the figure. */
  note?: string;
}

/** One line of the memory table: the peak resident memory of one process while a module ran. */
export interface MemoryRow {
  /** The module that was running. */
  module: string;
  /** Which process, e.g. "bench process", "pigeonhole serve", "Chromium renderer (largest)". */
  process: string;
  /** Peak resident set size in bytes; null where the platform can't tell (see `note`). */
  peak_bytes: number | null;
  /** What the process did meanwhile, or why there is no figure. */
  note: string;
}

/** Shared services for modules: temp directories and seeded mailboxes built once per run. */
export interface BenchContext {
  /**
   * Record the peak memory of a process the module started (a server, a browser): a row of the memory
   * table, beside the bench process's own peak, which the runner records for every module.
   */
  memory(process: string, peakBytes: number | null, note: string): void;
  /** A fresh directory, removed when the run ends. */
  tempDir(prefix: string): Promise<string>;
  /** A mailbox of `messages` messages from the fixed bench seed, built at most once per run (archive off). */
  seededMailbox(messages: number): Promise<SeededMailbox>;
  /** One line of progress on stderr. */
  log(message: string): void;
}

/** A mailbox built by the seed generator for a run, with what seeding it cost. */
export interface SeededMailbox {
  home: string;
  summary: SeedSummary;
  /** CPU milliseconds the seed used (this process). */
  cpu_ms: number;
}

/** A group of rows, selectable with `--only <name>`. */
export interface BenchModule {
  name: string;
  /** What the module does in the bench process itself, for the memory table. */
  memoryNote: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}
