import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cliEnv, killAll, startServe } from "../server/cli-process.js";

/**
 * The official conformance suite (`@modelcontextprotocol/conformance`, pinned 0.1.13), every server
 * scenario (`--suite all`), against our Streamable HTTP server. Scenarios that only fail because they call
 * the reference server's own test tools, resources or prompts are listed, with the name they need, in
 * conformance-expected-failures.json. Any other failure fails this test, and so does a listed scenario that
 * passes or fails for another reason, so the list stays honest.
 */

const CONFORMANCE = fileURLToPath(new URL("../../node_modules/.bin/conformance", import.meta.url));
const EXPECTED: { scenarios: Record<string, { needs: string; reason: string }> } = JSON.parse(
  readFileSync(new URL("./conformance-expected-failures.json", import.meta.url), "utf8"),
);

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO";
  errorMessage?: string;
}

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "ph-e2e-conf-"));
});

afterEach(async () => {
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

/** The server scenarios this version of the suite has (`conformance list --server`). */
function serverScenarios(): string[] {
  const out = execFileSync(CONFORMANCE, ["list", "--server"], { encoding: "utf8", env: cliEnv() });
  return [...out.matchAll(/^\s+- (\S+)$/gm)].map((m) => m[1] as string);
}

/** Run the whole server suite against `url`, bounded; results land in `outDir`, one folder per scenario. */
async function runSuite(url: string, outDir: string): Promise<string> {
  const child = spawn(CONFORMANCE, ["server", "--url", url, "--suite", "all", "-o", outDir], {
    env: cliEnv(),
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  // Its exit code is 1 whenever any scenario fails, listed or not; the comparison below decides.
  await new Promise((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  return output;
}

/** Checks per scenario, from the `server-<scenario>-<timestamp>/checks.json` files of a run. */
function resultsIn(outDir: string): Map<string, Check[]> {
  const results = new Map<string, Check[]>();
  for (const dir of readdirSync(outDir)) {
    const scenario = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(dir)?.[1];
    if (!scenario) continue;
    results.set(scenario, JSON.parse(readFileSync(join(outDir, dir, "checks.json"), "utf8")));
  }
  return results;
}

describe("MCP conformance suite", () => {
  it("passes every server scenario except those needing the reference server's own tools", async () => {
    const server = await startServe(["--home", join(root, "mailbox")]);
    const outDir = join(root, "results");
    const output = await runSuite(`${server.url}/mcp`, outDir);
    const results = resultsIn(outDir);

    const scenarios = serverScenarios();
    expect(scenarios.length).toBeGreaterThan(0);
    expect(
      scenarios.filter((s) => !results.has(s)),
      `scenarios without results; suite output:\n${output}`,
    ).toEqual([]);
    expect(
      Object.keys(EXPECTED.scenarios).filter((s) => !scenarios.includes(s)),
      "unknown listed scenarios",
    ).toEqual([]);

    const failures = new Map<string, string>();
    for (const [scenario, checks] of results) {
      const failed = checks.filter((c) => c.status === "FAILURE");
      if (failed.length > 0)
        failures.set(scenario, failed.map((c) => `${c.id}: ${c.errorMessage}`).join("; "));
    }
    const unexpected = [...failures].filter(([scenario]) => !(scenario in EXPECTED.scenarios));
    expect(unexpected, "failures not in conformance-expected-failures.json").toEqual([]);
    const nowPassing = Object.keys(EXPECTED.scenarios).filter((s) => !failures.has(s));
    expect(nowPassing, "listed as expected failures but passing: remove them from the list").toEqual([]);
    const otherReason = Object.entries(EXPECTED.scenarios)
      .filter(([scenario, { needs }]) => !failures.get(scenario)?.includes(needs))
      .map(([scenario]) => `${scenario}: ${failures.get(scenario)}`);
    expect(
      otherReason,
      "listed scenarios failing for another reason than the reference name they need",
    ).toEqual([]);

    // The protocol itself passes: lifecycle, ping, listing, logging, prompts, DNS-rebinding protection.
    const passed = [...results.keys()].filter((s) => !failures.has(s));
    expect(passed).toEqual(
      expect.arrayContaining([
        "server-initialize",
        "ping",
        "logging-set-level",
        "tools-list",
        "resources-list",
        "prompts-list",
        "dns-rebinding-protection",
      ]),
    );
  });
});
