import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildProgram } from "../../server/program.js";
import { cliEnv, killAll, runCli } from "./cli-process.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "pigeonhole-cli-"));
});

afterEach(async () => {
  await killAll();
  await rm(dir, { recursive: true, force: true });
});

describe("pigeonhole command line", () => {
  it("gives every option of every command a help text", () => {
    const commands = buildProgram().commands;
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      expect(command.description(), `pigeonhole ${command.name()}`).not.toBe("");
      for (const option of command.options) {
        expect(option.description, `pigeonhole ${command.name()} ${option.flags}`).not.toBe("");
      }
    }
  });

  it("prints help for a command, naming each option", async () => {
    const run = await runCli(["serve", "--help"]);
    expect(run.code).toBe(0);
    for (const flag of ["--transport", "--host", "--port", "--home"]) expect(run.stdout).toContain(flag);
  });

  it("reports bad option values and unknown commands as one line with a non-zero exit", async () => {
    for (const args of [
      ["serve", "--port", "http"],
      ["serve", "--port", "70000"],
      ["serve", "--transport", "carrier-pigeon"],
      ["serve", "--no-such-option"],
      ["no-such-command"],
    ]) {
      const run = await runCli(args);
      expect(run.code, args.join(" ")).not.toBe(0);
      expect(run.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
      expect(run.stderr).toMatch(/^error: /);
    }
  });

  it("shows an unexpected failure's message without its stack unless PIGEONHOLE_DEBUG=1", async () => {
    // A file where the mailbox directory should be: the operating system refuses, not our validation.
    const notADirectory = join(dir, "file");
    await writeFile(notADirectory, "");
    const args = ["serve", "--port", "0", "--home", join(notADirectory, "home")];

    const plain = await runCli(args);
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim().split("\n")).toHaveLength(1);
    expect(plain.stderr).toMatch(/^error: .*(ENOTDIR|EEXIST).*PIGEONHOLE_DEBUG=1/);

    const debug = await runCli(args, cliEnv({ PIGEONHOLE_DEBUG: "1" }));
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
