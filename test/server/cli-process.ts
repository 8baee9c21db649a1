import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { cleanEnv, freePort } from "../../fixtures/local-process.js";

/**
 * Run the built CLI (`dist/server/cli.js`, built by `pretest`) as a real child process. Every spawned child
 * is killed by `killAll()`, which test files call in `afterEach`, so a failed test never leaves a server.
 */

export const CLI = fileURLToPath(new URL("../../dist/server/cli.js", import.meta.url));

const children = new Set<ChildProcess>();

/** The parent's environment without any PIGEONHOLE_* variable, plus `extra`. */
export const cliEnv = cleanEnv;

export { freePort };

/** Outcome of a CLI run that finished. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A started `pigeonhole` process: its output so far, and its outcome once it exits. */
export interface CliProcess {
  child: ChildProcess;
  exited: Promise<CliRun>;
  output(): { stdout: string; stderr: string };
}

/** Start `pigeonhole ...args`, collecting its output; `killAll()` stops it if the test does not. */
export function startCli(args: string[], env = cliEnv()): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<CliRun>((resolve) => {
    child.on("close", (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/** Run `pigeonhole ...args` to completion (killed after `timeoutMs`). */
export async function runCli(args: string[], env = cliEnv(), timeoutMs = 30_000): Promise<CliRun> {
  const { child, exited } = startCli(args, env);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** A running `pigeonhole serve` over HTTP. */
export interface ServeProcess {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** Send `signal` and wait for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<CliRun>;
}

/**
 * Start `pigeonhole serve --port <free> ...args` and wait (bounded) until `GET /health` answers. Throws
 * with the server's stderr when it exits or does not become ready in time.
 */
export async function startServe(args: string[], env = cliEnv(), readyMs = 20_000): Promise<ServeProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { child, exited, output } = startCli(["serve", "--port", String(port), ...args], env);
  let exitedEarly: CliRun | undefined;
  void exited.then((run) => {
    exitedEarly = run;
  });
  const deadline = Date.now() + readyMs;
  for (;;) {
    if (exitedEarly)
      throw new Error(`serve exited (${exitedEarly.code}) before ready: ${exitedEarly.stderr}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`serve not ready within ${readyMs} ms: ${output().stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url,
    child,
    stderr: () => output().stderr,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** SIGKILL every child still running; for `afterEach`. */
export async function killAll(): Promise<void> {
  const running = [...children];
  for (const child of running) child.kill("SIGKILL");
  // Still in the set means "close" has not fired yet.
  await Promise.all(running.map((child) => once(child, "close")));
}
