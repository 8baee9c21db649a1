import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { descendants, peakRss, resetPeakRss } from "../../bench/process-memory.js";

/** Peak memory readings from /proc (the machines this runs on are Linux). */
describe("process memory", () => {
  it("reads this process's peak, which a reset brings down and an allocation raises", () => {
    const before = peakRss();
    expect(before).toBeGreaterThan(0);
    expect(resetPeakRss()).toBe(true);
    const reset = peakRss() as number;
    const block = Buffer.alloc(64 * 2 ** 20, 1);
    const after = peakRss() as number;
    expect(block[block.length - 1]).toBe(1);
    expect(after - reset).toBeGreaterThanOrEqual(60 * 2 ** 20);
  });

  it("finds a child process with its command line and peak, and says null for a process that is gone", async () => {
    const child = spawn("sleep", ["30"]);
    try {
      await new Promise((resolve) => child.once("spawn", resolve));
      const found = descendants().find((p) => p.pid === child.pid);
      expect(found?.command).toBe("sleep 30");
      expect(found?.peak_bytes).toBeGreaterThan(0);
    } finally {
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    expect(peakRss(child.pid as number)).toBeNull();
  });
});
