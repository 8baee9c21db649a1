import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Ledger } from "./audit.js";
import type { Channel, OperationStats, RunnerMessage, WorkerMessage, WorkerTask } from "./protocol.js";

/** Worker processes of one phase: forked, fed their task file, listened to, stopped and awaited. */

const WORKER = fileURLToPath(new URL("./worker.js", import.meta.url));

/** A running worker process. */
export interface Worker {
  task: WorkerTask;
  child: ChildProcess;
  /** Resolves with the worker's tallies when it exits (rejects when it failed). */
  finished: Promise<{ channel: Channel; stats: OperationStats[] }>;
}

/**
 * Fork a worker for `task` (its task file goes into `dir`); every ack or failure it reports is recorded
 * in `ledger` as it arrives, and `onReport` hears of each.
 */
export function startWorker(
  task: WorkerTask,
  dir: string,
  ledger: Ledger,
  onReport: (acknowledged: boolean) => void,
): Worker {
  const file = join(dir, `task-${task.id}.json`);
  writeFileSync(file, JSON.stringify(task));
  const child = fork(WORKER, [file], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let stats: OperationStats[] | undefined;
  let fatal: string | undefined;
  child.on("message", (message: WorkerMessage) => {
    if (message.type === "done") stats = message.stats;
    else if (message.type === "fatal") fatal = message.message;
    else {
      ledger.record(message);
      onReport(message.type === "ack");
    }
  });
  const finished = once(child, "exit").then(([code, signal]) => {
    if (fatal || !stats) {
      throw new Error(`worker ${task.id} failed (exit ${code ?? signal}): ${fatal ?? "no tallies reported"}`);
    }
    return { channel: task.channel, stats };
  });
  finished.catch(() => {});
  return { task, child, finished };
}

/** Tell workers to stop after their current call. */
export function stopWorkers(workers: Worker[]): void {
  for (const w of workers) {
    if (w.child.connected) w.child.send({ type: "stop" } satisfies RunnerMessage);
  }
}

/** Tell paced workers how much of the phase is done (0..1). */
export function paceWorkers(workers: Worker[], done: number): void {
  for (const w of workers) {
    if (w.task.paced && w.child.connected) w.child.send({ type: "pace", done } satisfies RunnerMessage);
  }
}

/** SIGKILL any worker still running (after a failure or the run's time limit). */
export function killWorkers(workers: Worker[]): void {
  for (const w of workers)
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
}
