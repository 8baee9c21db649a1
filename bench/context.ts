import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedMailbox } from "../fixtures/seed.js";
import { cpuMs } from "./measure.js";
import type { BenchContext, SeededMailbox } from "./types.js";

/** The seed every benchmark mailbox is built from, so runs compare like with like. */
export const BENCH_SEED = "bench";

/** A BenchContext plus `dispose`, which removes every directory it handed out. */
export function createContext(): BenchContext & { dispose(): Promise<void> } {
  const dirs: string[] = [];
  const seeded = new Map<number, Promise<SeededMailbox>>();
  const log = (message: string) => {
    process.stderr.write(`[bench] ${message}\n`);
  };
  const tempDir = async (prefix: string) => {
    const dir = await mkdtemp(join(tmpdir(), `pigeonhole-bench-${prefix}-`));
    dirs.push(dir);
    return dir;
  };
  return {
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
}
