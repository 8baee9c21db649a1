import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { killAll, runCli, startCli } from "../cli-process.js";

/**
 * pigeonhole demo, as a newcomer runs it: the built CLI seeds, exports, signs and serves; the URL it prints
 * serves a bundle that `verify` accepts with the printed key; Ctrl-C stops it and removes its files.
 */

interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

afterEach(killAll);

function startDemo(args: string[]): Running {
  const demo = startCli(["demo", ...args]);
  return {
    child: demo.child,
    stdout: () => demo.output().stdout,
    stderr: () => demo.output().stderr,
    exited: demo.exited.then((run) => run.code),
  };
}

/** Wait (bounded) until `read()` matches `pattern`, failing early if the process exits. */
async function waitFor(
  demo: Running,
  read: () => string,
  pattern: RegExp,
  ms = 120_000,
): Promise<RegExpExecArray> {
  let exited = false;
  void demo.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + ms;
  for (;;) {
    const match = pattern.exec(read());
    if (match) return match;
    if (exited) throw new Error(`demo exited early: ${demo.stderr()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${ms} ms; stderr: ${demo.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Wait (bounded) for the process to exit; its exit code. */
async function exitOf(demo: Running, ms = 30_000): Promise<number | null> {
  const timer = setTimeout(() => demo.child.kill("SIGKILL"), ms);
  try {
    return await demo.exited;
  } finally {
    clearTimeout(timer);
  }
}

describe("pigeonhole demo", () => {
  it("serves a signed bundle that verify accepts, then stops on Ctrl-C and removes its files", async () => {
    const demo = startDemo(["--messages", "60", "--port", "0"]);
    const [, url] = await waitFor(
      demo,
      demo.stdout,
      /^demo: (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C to stop\)$/m,
    );
    const [, publicKey] = await waitFor(demo, demo.stdout, /--public-key (\S+)\n/);
    const [, dir] = await waitFor(demo, demo.stdout, /files: +(\S+) \(removed on Ctrl-C/);
    expect(demo.stdout()).toMatch(/signing key: +[0-9a-f]{4}(:[0-9a-f]{4}){3}\n/);
    expect(demo.stdout()).toContain(`pinned link:  ${url}#key=${encodeURIComponent(publicKey ?? "")}`);
    expect(demo.stderr()).toContain("demo: seeding a sample mailbox (60 messages in ");
    expect(existsSync(dir ?? "")).toBe(true);

    const manifest = (await (await fetch(`${url}manifest.json`)).json()) as { counts: { messages: number } };
    expect(manifest.counts.messages).toBe(60);
    const verified = await runCli(["verify", url ?? "", "--public-key", publicKey ?? ""]);
    expect(verified.stdout).toContain(`verified: ${url}`);
    expect(verified.stdout).toContain("pinned");
    expect(verified.code).toBe(0);

    demo.child.kill("SIGINT");
    expect(await exitOf(demo)).toBe(0);
    expect(demo.stderr()).toContain("demo: stopped");
    expect(existsSync(dir ?? "")).toBe(false);
  });

  it("keeps its files with --keep", async () => {
    const demo = startDemo(["--messages", "5", "--port", "0", "--keep"]);
    const [, dir] = await waitFor(demo, demo.stdout, /files: +(\S+) \(kept after Ctrl-C\)/);
    demo.child.kill("SIGINT");
    expect(await exitOf(demo)).toBe(0);
    expect(existsSync(`${dir}/bundle/manifest.json`)).toBe(true);
    expect(existsSync(`${dir}/keys/demo.key`)).toBe(true);
    rmSync(dir ?? "", { recursive: true, force: true });
  });

  it("fails with one line when the chosen port is taken, leaving nothing behind", async () => {
    const blocker = createServer();
    blocker.listen(0, "127.0.0.1");
    await once(blocker, "listening");
    const port = (blocker.address() as { port: number }).port;
    try {
      const demo = startDemo(["--messages", "3", "--port", String(port)]);
      const code = await exitOf(demo, 120_000);
      expect(code).toBe(1);
      expect(demo.stderr()).toMatch(
        new RegExp(`error: Port ${port} on 127\\.0\\.0\\.1 is in use; choose another --port`),
      );
      const dir = /in (\/\S+)\)\n/.exec(demo.stderr())?.[1];
      expect(dir).toBeDefined();
      expect(existsSync(dir ?? "")).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it("refuses a bad --messages value", async () => {
    const run = await runCli(["demo", "--messages", "0"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--messages/);
  });
});
