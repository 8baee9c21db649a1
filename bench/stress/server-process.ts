import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { cleanEnv } from "../../fixtures/local-process.js";

/**
 * The server under stress: the built CLI's `pigeonhole serve` as a real process on 127.0.0.1, started,
 * SIGKILLed and restarted on the same home and port. Rate limiting is off (the load is the point).
 */

const CLI = fileURLToPath(new URL("../../server/cli.js", import.meta.url));

/** A `pigeonhole serve` process that can be killed and started again. */
export class ServerProcess {
  private child?: ChildProcess;
  private exited?: Promise<void>;
  readonly url: string;

  /** `log` receives the server's stderr (its request log) across every restart. */
  constructor(
    private readonly home: string,
    readonly port: number,
    private readonly log: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  private logTail(): string {
    try {
      return readFileSync(this.log, "utf8").split("\n").slice(-40).join("\n");
    } catch {
      return "";
    }
  }

  /** Start and wait until `GET /health` answers (at most `readyMs`). */
  async start(readyMs = 30_000): Promise<void> {
    // A file, not a pipe: the request log then costs the server no wake-ups of a reader.
    const fd = openSync(this.log, "a");
    const child = spawn(
      process.execPath,
      [CLI, "serve", "--host", "127.0.0.1", "--port", String(this.port), "--home", this.home],
      { env: cleanEnv({ PIGEONHOLE_RATE_LIMIT: "off" }), stdio: ["ignore", "ignore", fd] },
    );
    closeSync(fd);
    this.child = child;
    this.exited = once(child, "close").then(() => {});
    const deadline = Date.now() + readyMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the server exited before it was ready:\n${this.logTail()}`);
      }
      try {
        if ((await fetch(`${this.url}/health`)).ok) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`the server was not ready within ${readyMs} ms:\n${this.logTail()}`);
      }
      await sleep(25);
    }
  }

  /** SIGKILL the server and wait until the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await this.exited;
    this.child = undefined;
  }

  /** Ask for a graceful stop (SIGTERM) and wait for it. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await this.exited;
    this.child = undefined;
  }
}
