import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import type { StressReport } from "../../bench/stress/report.js";

/**
 * `npm run stress` end to end at a tiny scale (built by `pretest`): every phase runs, the audit and the
 * checks pass, one kill round comes back clean, and the JSON and Markdown reports are written.
 */

const RUNNER = fileURLToPath(new URL("../../dist/bench/stress/run.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "ph-stress-run-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("a small stress run with one SIGKILL round loses nothing and writes its reports", async () => {
  const json = join(dir, "stress.json");
  const markdown = join(dir, "RELIABILITY.md");
  writeFileSync(markdown, "# Reliability\n");
  const args = [
    "--senders",
    "2",
    "--engine-senders",
    "1",
    "--readers",
    "1",
    "--agents",
    "1",
    "--messages",
    "10",
  ];
  const child = spawn(
    process.execPath,
    [RUNNER, ...args, "--rounds", "1", "--json", json, "--markdown", markdown],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = await once(child, "exit");
  expect(code, output).toBe(0);
  const report = JSON.parse(readFileSync(json, "utf8")) as StressReport;
  expect(report.ok).toBe(true);
  expect(report.audits[0]).toMatchObject({
    phase: "after load",
    audit: { acknowledged: 30, lost: 0, duplicated: 0 },
  });
  expect(report.kill_rounds).toHaveLength(1);
  expect(report.kill_rounds[0]?.clean).toBe(true);
  expect(report.checks.every((c) => c.ok === true)).toBe(true);
  const sends = report.operations.filter((r) => r.phase === "load" && r.operation === "send_message");
  expect(sends.map((r) => [r.channel, r.ok])).toEqual([
    ["engine", 10],
    ["mcp", 10],
    ["rest", 10],
  ]);
  expect(output).toContain("Result: ok (lost = 0, duplicated = 0)");
  expect(readFileSync(markdown, "utf8")).toMatch(
    /^# Reliability\n\n<!-- stress:begin[\s\S]*\| after load \| 30 \| 0 \| 0 \|/,
  );
});
