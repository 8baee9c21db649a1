import { afterEach, describe, expect, it, vi } from "vitest";
import { usableWorkerScript } from "../../exporter/pipeline/worker-scripts.js";

/** The export's worker threads start only where they can help: a built script and a second core. */

const cores = { n: 2 };
vi.mock("node:os", async (importOriginal) => ({
  ...(await importOriginal<typeof import("node:os")>()),
  availableParallelism: () => cores.n,
}));

const EXISTING = new URL("./fixtures/failing-worker.mjs", import.meta.url);

describe("worker scripts", () => {
  afterEach(() => {
    cores.n = 2;
  });

  it("uses a built script on two or more cores", () => {
    expect(usableWorkerScript(EXISTING)).toBe(EXISTING);
  });

  it("keeps the work on the main thread on one core", () => {
    cores.n = 1;
    expect(usableWorkerScript(EXISTING)).toBeNull();
  });

  it("keeps the work on the main thread when the script is not built (running from the sources)", () => {
    expect(usableWorkerScript(new URL("./no-such-worker.js", import.meta.url))).toBeNull();
  });
});
