import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedMailbox } from "../fixtures/seed.js";
import { cpuMs } from "./measure.js";
import type { BenchContext, MemoryRow, SeededMailbox } from "./types.js";

/** The seed every benchmark mailbox is built from, so runs compare like with like. */
export const BENCH_SEED = "bench";

/** What `createContext` returns: the context, the memory rows recorded so far, and `dispose`. */
export interface RunContext extends BenchContext {
  /** The module `memory()` rows are filed under; the runner sets it before each module. */
  module: string;
  /** Every `memory()` row so far, in order. */
  readonly memoryRows: MemoryRow[];
  /** Remove every directory handed out. */
  dispose(): Promise<void>;
}

/** A BenchContext for one run, plus the memory rows it collects and `dispose`. */
export function createContext(): RunContext {
  const dirs: string[] = [];
  const memoryRows: MemoryRow[] = [];
  const seeded = new Map<number, Promise<SeededMailbox>>();
  const log = (message: string) => {
    process.stderr.write(`[bench] ${message}\n`);
  };
  const tempDir = async (prefix: string) => {
    const dir = await mkdtemp(join(tmpdir(), `pigeonhole-bench-${prefix}-`));
    dirs.push(dir);
    return dir;
  };
  const ctx: RunContext = {
    module: "",
    memoryRows,
    memory(process, peak_bytes, note) {
      memoryRows.push({ module: ctx.module, process, peak_bytes, note });
    },
    tempDir,
    log,
    seededMailbox(messages) {
      let pending = seeded.get(messages);
      if (!pending) {
        pending = (async () => {
          const home = await tempDir("seed");
          log(`seeding ${messages.toLocaleString("en-US")} messages (seed "${BENCH_SEED}")`);
          const cpu = cpuMs();
          const summary = await seedMailbox({ home, messages, seed: BENCH_SEED });
          const cpu_ms = Math.round(cpuMs() - cpu);
          log(`seeded in ${(summary.elapsed_ms / 1000).toFixed(1)} s (${(cpu_ms / 1000).toFixed(1)} s CPU)`);
          return { home, summary, cpu_ms };
        })();
        seeded.set(messages, pending);
      }
      return pending;
    },
    async dispose() {
      for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  };
  return ctx;
}
