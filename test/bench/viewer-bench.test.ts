import { afterEach, describe, expect, it } from "vitest";
import { createContext } from "../../bench/context.js";
import { createViewerBench } from "../../bench/viewer.js";

/**
 * The viewer benchmark end to end on a small mailbox: it exports with the built viewer, opens the bundle
 * in Chromium and the bare sql.js baseline page, searches both, and returns every row with a figure and a
 * baseline. Timings are not compared with anything.
 */

const ctx = createContext();
afterEach(() => ctx.dispose());

describe("viewer bench module", () => {
  it("measures opening, search and heap against bare sql.js", async () => {
    const bench = createViewerBench({ messages: 300, openRuns: 1 });
    expect(bench.name).toBe("viewer");
    const rows = await bench.run(ctx);
    expect(rows.map((r) => r.name)).toEqual([
      expect.stringMatching(/^viewer: open a 300-message signed bundle to verified \+ first inbox rows/),
      expect.stringMatching(/^viewer: search to results on screen/),
      "viewer: JS heap after the first inbox (after GC)",
    ]);
    for (const row of rows) {
      expect(row.figure, row.name).toBeGreaterThan(0);
      expect(row.baseline_figure, row.name).toBeGreaterThan(0);
      expect(row.ratio, row.name).toBeGreaterThan(0);
    }
    expect(rows[0]?.note).toMatch(/manifest \d+, downloaded \d+, verified \d+, opened \d+/);
    // The page's renderer holds the database in WebAssembly memory: well above an empty page's.
    const renderer = ctx.memoryRows.find((m) => m.process === "Chromium renderer (largest)");
    expect(renderer?.peak_bytes).toBeGreaterThan(20 * 2 ** 20);
  }, 180_000);
});
