import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Random } from "../../fixtures/random.js";
import { type Audit, auditClean, auditMessages, checkIntegrity, Ledger } from "./audit.js";
import type { Options } from "./options.js";
import type { AgentCredential, Channel, WorkerTask } from "./protocol.js";
import { type Check, type KillRound, type OperationRow, operationRows } from "./report.js";
import type { ServerProcess } from "./server-process.js";
import { httpChannel, type StressMailbox } from "./setup.js";
import { paceWorkers, startWorker, stopWorkers, type Worker } from "./workers.js";

/**
 * One stress run's moving parts: the ledger of send outcomes, the worker processes of each phase, the
 * SIGKILL rounds, and the audits and checks they produce.
 */

/** A progress line on stderr (stdout carries the report). */
export function log(message: string): void {
  process.stderr.write(`stress: ${message}\n`);
}

/** One phase's workers, forked and running. */
interface Phase {
  senders: Worker[];
  readers: Worker[];
  began: number;
}

/** A run in progress; `run.ts` drives it phase by phase and turns what it recorded into the report. */
export class StressRun {
  readonly ledger = new Ledger();
  readonly prefix = `stress-${randomBytes(4).toString("hex")}`;
  readonly random: Random;
  readonly taskDir: string;
  /** Acknowledged HTTP sends, by channel. */
  readonly httpAcks: Record<"mcp" | "rest", number> = { mcp: 0, rest: 0 };
  /** Outcomes (acknowledged or failed) reported by HTTP senders. */
  httpReports = 0;
  /** How much of the current phase is done, told to paced (engine) senders. */
  private progress: () => number = () => 1;
  private pacer?: NodeJS.Timeout;
  readonly workers: Worker[] = [];
  readonly operations: OperationRow[] = [];
  /** Every audit, also those taken while senders still ran (after each kill). */
  readonly audits: { phase: string; audit: Audit; sendersDone: boolean }[] = [];
  readonly checks: Check[] = [];
  /** Workers that failed or reported no tallies. */
  readonly workerFailures: string[] = [];
  roundsDone = 0;

  constructor(
    readonly options: Options,
    readonly home: string,
    readonly mailbox: StressMailbox,
    readonly server: ServerProcess,
  ) {
    this.random = new Random(options.seed);
    this.taskDir = join(home, "stress-tasks");
    mkdirSync(this.taskDir, { recursive: true });
  }

  stopPacing(): void {
    clearInterval(this.pacer);
  }

  get database(): string {
    return join(this.home, "mailbox.sqlite3");
  }

  private task(
    phase: string,
    id: string,
    role: WorkerTask["role"],
    channel: Channel,
    agents: AgentCredential[],
    messages: number,
  ): WorkerTask {
    return {
      id: `${phase}-${id}`,
      role,
      channel,
      home: this.home,
      url: this.server.url,
      project: this.mailbox.project,
      agents,
      recipients: this.mailbox.everyone,
      prefix: this.prefix,
      messages,
      survivesKills: phase === "kill",
      paced: channel === "engine" && this.options.senders > 0,
      seed: this.random.int(2 ** 31),
    };
  }

  /**
   * Fork every worker of a phase: HTTP senders stop after `httpMessages` sends, engine senders after
   * `options.messages` (paced by `progress`), readers when told.
   */
  startPhase(phase: string, httpMessages: number, progress: () => number): Phase {
    const { mailbox } = this;
    const messages = this.options.messages;
    const start = (task: WorkerTask) => {
      const worker = startWorker(task, this.taskDir, this.ledger, (acknowledged) => {
        if (task.channel === "engine") return;
        this.httpReports++;
        if (acknowledged) this.httpAcks[task.channel]++;
      });
      this.workers.push(worker);
      return worker;
    };
    this.progress = progress;
    const senders = [
      ...mailbox.httpAgents.map((agents, i) =>
        start(this.task(phase, `${httpChannel(i)}-${i + 1}`, "sender", httpChannel(i), agents, httpMessages)),
      ),
      ...mailbox.engineAgents.map((agents, i) =>
        start(this.task(phase, `engine-${i + 1}`, "sender", "engine", agents, messages)),
      ),
    ];
    const readers = mailbox.readerAgents.map((agents, i) =>
      start(this.task(phase, `reader-${i + 1}`, "reader", httpChannel(i), agents, 0)),
    );
    clearInterval(this.pacer);
    this.pacer = setInterval(() => paceWorkers(senders, Math.min(1, this.progress())), 100);
    return { senders, readers, began: performance.now() };
  }

  /** Wait for the senders to finish, stop the readers, and tally the phase's operations. */
  async finishPhase(phase: string, workers: Phase, stopSenders: boolean): Promise<void> {
    if (stopSenders) stopWorkers(workers.senders);
    this.progress = () => 1;
    const senders = await Promise.allSettled(workers.senders.map((w) => w.finished));
    clearInterval(this.pacer);
    stopWorkers(workers.readers);
    const readers = await Promise.allSettled(workers.readers.map((w) => w.finished));
    const tallies = [];
    for (const result of [...senders, ...readers]) {
      if (result.status === "fulfilled") tallies.push(result.value);
      else this.workerFailures.push(String(result.reason).split("\n")[0] ?? "");
    }
    this.operations.push(...operationRows(phase, tallies, (performance.now() - workers.began) / 1000));
  }

  /** Compare the database with the ledger now; `sendersDone` when no sender can still report. */
  audit(phase: string, sendersDone: boolean): Audit {
    const audit = auditMessages(this.database, this.prefix, this.ledger);
    this.audits.push({ phase, audit, sendersDone });
    if (!auditClean(audit, sendersDone)) log(`${phase}: NOT CLEAN: ${audit.examples.join("; ")}`);
    return audit;
  }

  /** Record SQLite's integrity check (and with `fts` the search index's) as checks labelled `label`. */
  integrity(label: string, fts: boolean): void {
    const result = checkIntegrity(this.database, fts);
    this.checks.push({
      check: `PRAGMA integrity_check (${label})`,
      ok: result.integrity === "ok",
      detail: result.integrity,
    });
    if (result.fts !== null) {
      this.checks.push({
        check: `FTS5 index against messages (${label})`,
        ok: result.fts === "ok",
        detail: result.fts,
      });
    }
  }

  /** Resolve once every HTTP channel in use has had `count` more sends acknowledged (or after 30 s). */
  private async sendsFlowing(count: number): Promise<void> {
    const channels = (["mcp", "rest"] as const).filter((c) =>
      this.mailbox.httpAgents.some((_, i) => httpChannel(i) === c),
    );
    const target = channels.map((c) => this.httpAcks[c] + count);
    const deadline = Date.now() + 30_000;
    while (channels.some((c, i) => this.httpAcks[c] < target[i]!) && Date.now() < deadline) await sleep(5);
  }

  /**
   * Kill the server at a random moment once sends flow again on every HTTP channel (MCP clients must
   * open new sessions first), restart it on the same port and home, audit; `rounds` times.
   */
  async killRounds(): Promise<KillRound[]> {
    const rounds: KillRound[] = [];
    for (let round = 1; round <= this.options.rounds; round++, this.roundsDone++) {
      await this.sendsFlowing(5);
      await sleep(this.random.int(1000));
      const acknowledged = this.ledger.acknowledged.size;
      await this.server.kill();
      const killed = performance.now();
      await this.server.start();
      const restart_ms = Math.round(performance.now() - killed);
      const audit = this.audit(`kill round ${round}`, false);
      const clean = auditClean(audit, false);
      rounds.push({
        round,
        acknowledged_before_kill: acknowledged,
        restart_ms,
        lost: audit.lost,
        duplicated: audit.duplicated,
        clean,
      });
      log(
        `round ${round}: killed after ${acknowledged} acknowledged sends, restarted in ${restart_ms} ms, ${clean ? "clean" : "NOT CLEAN"}`,
      );
    }
    return rounds;
  }
}
