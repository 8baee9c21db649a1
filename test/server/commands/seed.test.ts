import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommanderError } from "commander";
import { afterAll, afterEach, expect, test } from "vitest";
import { buildSeedCommand } from "../../../server/commands/seed.js";
import { killAll, runCli } from "../cli-process.js";

const dirs: string[] = [];
function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), "ph-seedcli-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterEach(killAll);

/** Run `seed` with `args` the way the CLI would, capturing everything it prints. */
async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const cmd = buildSeedCommand({
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t), isTTY: false },
  })
    .exitOverride()
    .configureOutput({ writeOut: (t) => out.push(t), writeErr: (t) => err.push(t) });
  let error: unknown;
  try {
    await cmd.parseAsync(args, { from: "user" });
  } catch (e) {
    error = e;
  }
  return { stdout: out.join(""), stderr: err.join(""), error };
}

test("--messages must be a whole number from 1 to 10,000,000, with a one-line error", async () => {
  for (const bad of ["0", "-3", "abc", "1.5", "1e3", "10000001", ""]) {
    const { error, stderr, stdout } = await run(["--home", tempHome(), "--messages", bad]);
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).code).toBe("commander.invalidArgument");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("--messages");
    expect(stderr).toContain("expected a whole number from 1 to 10000000");
    expect(stdout).toBe("");
  }
});

test("--home and --messages are required; --start must be a timestamp", async () => {
  const noHome = await run(["--messages", "10"]);
  expect((noHome.error as CommanderError).code).toBe("commander.missingMandatoryOptionValue");
  expect(noHome.stderr).toContain("--home");
  const noCount = await run(["--home", tempHome()]);
  expect((noCount.error as CommanderError).code).toBe("commander.missingMandatoryOptionValue");
  expect(noCount.stderr).toContain("--messages");
  const badStart = await run(["--home", tempHome(), "--messages", "5", "--start", "soon"]);
  expect((badStart.error as CommanderError).code).toBe("commander.invalidArgument");
  expect(badStart.stderr).toContain("ISO-8601");
});

test("--json prints the summary as JSON; the default output is a readable table", async () => {
  const home = tempHome();
  const json = await run(["--home", home, "--messages", "40", "--seed", "cli", "--json", "--no-attachments"]);
  expect(json.error).toBeUndefined();
  const summary = JSON.parse(json.stdout);
  expect(summary).toMatchObject({ messages: 40, seed: "cli", home, attachments: 0 });
  expect(summary.elapsed_ms).toBeGreaterThanOrEqual(0);
  expect(json.stderr).toBe("");

  const text = await run([
    "--home",
    tempHome(),
    "--messages",
    "40",
    "--seed",
    "cli",
    "--start",
    "2030-02-03T10:00:00Z",
  ]);
  expect(text.error).toBeUndefined();
  expect(text.stdout).toMatch(/^Seeded .* in \d+\.\d s \(seed "cli"\)\n/);
  expect(text.stdout).toMatch(/messages +40 in \d+ threads/);
  expect(text.stdout).toContain("2030-02-03T");
});

test("seeding into a mailbox that already has projects is refused", async () => {
  const home = tempHome();
  expect((await run(["--home", home, "--messages", "5"])).error).toBeUndefined();
  const again = await run(["--home", home, "--messages", "5"]);
  expect(again.error).toMatchObject({ code: "CONFLICT" });
});

test("the built CLI runs `pigeonhole seed`: one-line errors with a non-zero exit, JSON on success", async () => {
  const bad = await runCli(["seed", "--home", tempHome(), "--messages", "0"]);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  expect(bad.stderr).toMatch(/^error: .*--messages/);

  const home = tempHome();
  const ok = await runCli(["seed", "--home", home, "--messages", "25", "--seed", "spawned", "--json"]);
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ home, messages: 25, seed: "spawned" });

  const again = await runCli(["seed", "--home", home, "--messages", "25"]);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/^error: The mailbox in .* already holds projects/);
});
