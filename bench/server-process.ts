import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cleanEnv } from "../fixtures/local-process.js";

/**
 * The real `pigeonhole serve` for the server benchmark: the built CLI as a child process on a loopback
 * port the OS picks, its log in a file (so reading it costs the measuring process nothing), stopped with
 * SIGTERM and, if it hangs, SIGKILL.
 */

const READY_MS = 20_000;
const STOP_MS = 15_000;

/** The built CLI: `dist/server/cli.js`, whether this file runs from `dist/bench/` or from `bench/` (tests). */
function cliPath(): string {
  for (const relative of ["../server/cli.js", "../dist/server/cli.js"]) {
    const path = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("dist/server/cli.js not found: run `npm run build` first.");
}

/** A running benchmark server. */
export interface BenchServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`; MCP is at `${url}/mcp`. */
  url: string;
  /** The server's process id (for its CPU time). */
  pid: number;
  /** Stop the server (SIGTERM, SIGKILL after 15 s) and wait for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Start `pigeonhole serve --host 127.0.0.1 --port 0 --home <home>` with `env` added to a PIGEONHOLE_-free
 * environment, logging to `logFile`, and wait (at most 20 s) for it to listen. Throws with the log's tail
 * if it exits or does not start. The server is killed if this process exits first.
 */
export async function startBenchServer(
  home: string,
  logFile: string,
  env: Record<string, string>,
): Promise<BenchServer> {
  const log = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [cliPath(), "serve", "--host", "127.0.0.1", "--port", "0", "--home", home],
    { env: cleanEnv({ ...env, PIGEONHOLE_LOG_FORMAT: "text" }), stdio: ["ignore", "ignore", log] },
  );
  // The child holds its own copy of the descriptor.
  closeSync(log);
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const tail = () => readFileSync(logFile, "utf8").split("\n").slice(-20).join("\n");
  try {
    const url = await waitForUrl(child, logFile);
    return {
      url,
      pid: child.pid as number,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const timer = setTimeout(() => child.kill("SIGKILL"), STOP_MS);
          await exited;
          clearTimeout(timer);
        }
        process.off("exit", killOnExit);
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    process.off("exit", killOnExit);
    throw new Error(`${error instanceof Error ? error.message : String(error)}; server log:\n${tail()}`);
  }
}

/** The URL from the server's start-up line ("MCP server at http://...:PORT/mcp"). */
async function waitForUrl(child: ChildProcess, logFile: string): Promise<string> {
  const deadline = Date.now() + READY_MS;
  for (;;) {
    const match = /MCP server at (http:\/\/\S+)\/mcp/.exec(readFileSync(logFile, "utf8"));
    if (match?.[1]) return match[1];
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`pigeonhole serve exited (${child.exitCode ?? child.signalCode}) before listening`);
    }
    if (Date.now() > deadline) throw new Error(`pigeonhole serve did not listen within ${READY_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
