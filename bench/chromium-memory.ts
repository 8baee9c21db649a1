import { type DescendantProcess, descendants } from "./process-memory.js";
import type { BenchContext } from "./types.js";

/**
 * The peak memory of the Chromium processes under this one, sampled while the pages are open (a
 * renderer's figures vanish with it). The table gets the largest renderer, where a page and its sql.js
 * database live; a sum over all processes would count Chromium's shared pages once per process.
 */
export class ChromiumMemory {
  private readonly peaks = new Map<number, DescendantProcess>();

  /** Read the peak of every Chromium process alive now; call while the pages of interest are open. */
  sample(): void {
    for (const p of descendants()) {
      if (!/chrom/i.test(p.command) || p.peak_bytes === null) continue;
      const known = this.peaks.get(p.pid);
      if (!known || (known.peak_bytes ?? 0) < p.peak_bytes) this.peaks.set(p.pid, p);
    }
  }

  /** Add the largest renderer's peak to the run's memory table. */
  record(ctx: BenchContext): void {
    const all = [...this.peaks.values()];
    const renderers = all.filter((p) => p.command.includes("--type=renderer"));
    const largest = renderers.reduce<number | null>((max, p) => Math.max(max ?? 0, p.peak_bytes ?? 0), null);
    const none = "no Chromium process found under the bench process (not Linux?)";
    ctx.memory(
      "Chromium renderer (largest)",
      largest,
      largest === null
        ? none
        : "the viewer's page or the bare sql.js page, both holding the whole database in WebAssembly memory",
    );
  }
}
