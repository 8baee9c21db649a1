import { afterEach, describe, expect, it } from "vitest";
import { createContext } from "../../bench/context.js";
import { createServerBench } from "../../bench/server.js";

/**
 * The server benchmark end to end with tiny counts: it starts the built server, drives it with SDK
 * clients at two concurrency levels and returns every row with a figure (positive, except the server's
 * CPU per call, which tiny counts can round to 0). Timings are not compared with anything.
 */

const ctx = createContext();
afterEach(() => ctx.dispose());

describe("server bench module", () => {
  it("measures fetch_inbox and send_message against health_check, and tools/list per profile", async () => {
    const bench = createServerBench({ messages: 300, concurrency: [1, 2], calls: 8, rounds: 2, warmup: 1 });
    expect(bench.name).toBe("server");
    const rows = await bench.run(ctx);

    const load = (label: string) =>
      [1, 2].flatMap((n) => {
        const at = `${n} session${n === 1 ? "" : "s"}`;
        return [
          `${label}, ${at}`,
          `${label}, ${at} p50`,
          `${label}, ${at} p99`,
          `${label}, ${at} server CPU/call`,
        ];
      });
    expect(rows.map((r) => r.name)).toEqual([
      expect.stringMatching(/^tools\/list, core profile \(\d+ tools\) size$/),
      expect.stringMatching(/^tools\/list, core profile \(\d+ tools\) ≈tokens$/),
      expect.stringMatching(/^tools\/list, full profile \(\d+ tools\) size$/),
      expect.stringMatching(/^tools\/list, full profile \(\d+ tools\) ≈tokens$/),
      ...load("fetch_inbox (limit 20, 300 messages) over HTTP"),
      ...load("send_message (1 recipient, 512 B body) over HTTP"),
    ]);
    for (const row of rows) {
      expect(Number.isFinite(row.figure), row.name).toBe(true);
      if (row.name.endsWith("server CPU/call")) expect(row.figure, row.name).toBeGreaterThanOrEqual(0);
      else expect(row.figure, row.name).toBeGreaterThan(0);
    }
    for (const row of rows.slice(4)) {
      const cpu = row.name.endsWith("server CPU/call");
      const latency = row.name.endsWith("p50") || row.name.endsWith("p99");
      expect(row.unit, row.name).toBe(cpu || latency ? "ms" : "calls/s");
      expect(row.baseline, row.name).toMatch(/^health_check, \d sessions?/);
      // So few calls can fit in one 10 ms tick of the server's CPU clock: CPU may read 0 here.
      if (cpu) continue;
      expect(row.baseline_figure, row.name).toBeGreaterThan(0);
      expect(row.ratio, row.name).toBeGreaterThan(0);
    }
    const [coreSize, , fullSize] = rows;
    expect(coreSize?.baseline).toBe("tools/list, full profile size");
    expect(coreSize?.ratio).toBeLessThan(1);
    expect(fullSize?.baseline).toBeNull();
    const server = ctx.memoryRows.find((m) => m.process === "pigeonhole serve");
    expect(server?.peak_bytes).toBeGreaterThan(10 * 2 ** 20);
    expect(server?.note).toContain("1, 2 sessions");
  }, 120_000);
});
