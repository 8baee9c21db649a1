import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliEnv, killAll, runCli } from "../server/cli-process.js";
import { readManifest, type SampleMailbox, sampleMailbox, tempDir } from "./helpers.js";

/** `pigeonhole export` as a real process (the built CLI in dist/). */

let sample: SampleMailbox;

beforeAll(async () => {
  sample = await sampleMailbox(true);
});

afterEach(killAll);

describe("pigeonhole export", () => {
  it("--json prints the summary; piped stderr gets no progress bars", async () => {
    const out = join(tempDir(), "bundle");
    const run = await runCli([
      "export",
      "--home",
      sample.home,
      "--out",
      out,
      "--project",
      sample.appSlug,
      "--scrub",
      "strict",
      "--pseudonymize",
      "--chunk-size",
      "64K",
      "--json",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({
      out,
      format: "directory",
      scrub: "strict",
      pseudonymized: true,
      encryption: null,
    });
    expect(summary.counts.exported.messages).toBe(sample.appMessages.length);
    expect(summary.stages.scrub.registration_tokens_removed).toBe(4);
    expect(summary.stages.scrub.bodies_removed).toBe(sample.appMessages.length);
    expect(summary.stages.pseudonymize.agents).toBe(4);
    for (const stage of [
      "snapshot",
      "scope",
      "scrub",
      "pseudonymize",
      "finalize",
      "chunk",
      "write",
      "publish",
    ]) {
      expect(typeof summary.timings_ms[stage], stage).toBe("number");
    }
    const manifest = readManifest(out);
    expect(manifest.database.chunk_size).toBe(64 * 1024);
    expect(manifest.generator.name).toBe("pigeonhole");
    expect(manifest.generator.version).not.toBe("unknown");
    for (const name of sample.names) expect(run.stdout).not.toContain(name);
  });

  it("prints a short text summary without --json, and a --zip file", async () => {
    const out = join(tempDir(), "bundle.zip");
    const run = await runCli(["export", "--home", sample.home, "--out", out, "--zip"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Exported 6 messages, 5 agents, 2 projects to .*bundle\.zip \(zip\)\./);
  });

  it("refuses a previous bundle as --out (exit 1, one line) and replaces it with --force", async () => {
    const out = join(tempDir(), "bundle");
    expect((await runCli(["export", "--home", sample.home, "--out", out])).code).toBe(0);
    const refused = await runCli(["export", "--home", sample.home, "--out", out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: .*already holds a bundle; pass --force/);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
    const forced = await runCli(["export", "--home", sample.home, "--out", out, "--force"]);
    expect(forced.code).toBe(0);
  });

  it("refuses to replace a directory that is not a bundle, even with --force", async () => {
    const out = join(tempDir(), "files");
    mkdirSync(out);
    writeFileSync(join(out, "keep.txt"), "x");
    const refused = await runCli(["export", "--home", sample.home, "--out", out, "--force"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("not a bundle");
  });

  it("rejects bad option values before doing anything", async () => {
    const out = join(tempDir(), "bundle");
    const small = await runCli(["export", "--home", sample.home, "--out", out, "--chunk-size", "1000"]);
    expect(small.code).not.toBe(0);
    expect(small.stderr).toContain("--chunk-size");
    const preset = await runCli(["export", "--home", sample.home, "--out", out, "--scrub", "nope"]);
    expect(preset.code).not.toBe(0);
    expect(preset.stderr).toContain("--scrub");
    const both = await runCli(
      ["export", "--home", sample.home, "--out", out, "--recipient", "age1x", "--passphrase-file", "/x"],
      cliEnv(),
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("not both");
  });
});
