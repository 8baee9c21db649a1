import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { Random } from "../../fixtures/random.js";
import { machineInfo } from "../report.js";
import { checkArchiveComplete } from "./archive-check.js";
import { type Audit, auditClean, auditMessages, checkIntegrity, Ledger } from "./audit.js";
import type { AgentCredential, Channel, WorkerTask } from "./protocol.js";
import {
  type Check,
  formatText,
  type KillRound,
  type OperationRow,
  operationRows,
  type StressReport,
  writeMarkdownSection,
} from "./report.js";
import { freePort, ServerProcess } from "./server-process.js";
import { httpChannel, type StressMailbox, setUpMailbox } from "./setup.js";
import { killWorkers, paceWorkers, startWorker, stopWorkers, type Worker } from "./workers.js";

/**
 * `npm run stress [-- options]`: many processes send uniquely marked messages through a real
 * `pigeonhole serve` (MCP over Streamable HTTP and REST) and through the engine directly, while readers
 * fetch, peek and search; then every acknowledged send is looked up in the database. A second phase
 * SIGKILLs the server at random moments under load and restarts it, auditing after every restart.
 * Loopback only; bounded by counts and by `--timeout`. Exits 1 when anything was lost or duplicated.
 */

const USAGE = `usage: npm run stress -- [options]
  --senders N          HTTP sender processes (default 8; odd ones use MCP, even ones REST)
  --engine-senders N   processes sending through the engine directly (default 2)
  --readers N          reader processes fetching inboxes and searching (default 2)
  --agents N           agents per HTTP sender, each with its own session (default 3)
  --messages N         messages per sender process in the load phase (default 2000)
  --rounds N           SIGKILL-and-restart rounds (default 20; 0 skips the phase)
  --timeout S          give up after S seconds (default 1200)
  --seed N             seed for every random choice (default 1)
  --json FILE          also write the report as JSON
  --markdown FILE      write the report into FILE's generated section (docs/RELIABILITY.md)
  --keep               keep the mailbox directory (its path is printed)
`;

interface Options {
  senders: number;
  engineSenders: number;
  readers: number;
  agents: number;
  messages: number;
  rounds: number;
  timeout: number;
  seed: number;
  json?: string;
  markdown?: string;
  keep: boolean;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      senders: { type: "string" },
      "engine-senders": { type: "string" },
      readers: { type: "string" },
      agents: { type: "string" },
      messages: { type: "string" },
      rounds: { type: "string" },
      timeout: { type: "string" },
      seed: { type: "string" },
      json: { type: "string" },
      markdown: { type: "string" },
      keep: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const count = (name: keyof typeof values, fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`--${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(raw)}`);
    }
    return n;
  };
  return {
    senders: count("senders", 8, 0, 64),
    engineSenders: count("engine-senders", 2, 0, 16),
    readers: count("readers", 2, 0, 16),
    agents: count("agents", 3, 1, 26),
    messages: count("messages", 2000, 1, 1_000_000),
    rounds: count("rounds", 20, 0, 1000),
    timeout: count("timeout", 1200, 10, 86_400),
    seed: count("seed", 1, 0, 2 ** 31),
    json: values.json,
    markdown: values.markdown,
    keep: values.keep ?? false,
  };
}

function log(message: string): void {
  process.stderr.write(`stress: ${message}\n`);
}

/** One phase's workers, forked and running. */
interface Phase {
  senders: Worker[];
  readers: Worker[];
  began: number;
}

class Run {
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
  readonly audits: { phase: string; audit: Audit }[] = [];
  readonly checks: Check[] = [];
  failures: string[] = [];
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
    const { options, mailbox } = this;
    const messages = options.messages;
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
    const readers = mailbox.readerAgents
      .slice(0, options.readers)
      .map((agents, i) => start(this.task(phase, `reader-${i + 1}`, "reader", httpChannel(i), agents, 0)));
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
      else this.failures.push(String(result.reason).split("\n")[0] ?? "");
    }
    this.operations.push(...operationRows(phase, tallies, (performance.now() - workers.began) / 1000));
  }

  audit(phase: string, sendersDone: boolean): Audit {
    const audit = auditMessages(this.database, this.prefix, this.ledger);
    if (sendersDone) this.audits.push({ phase, audit });
    if (!auditClean(audit, sendersDone)) this.failures.push(`${phase}: ${audit.examples.join("; ")}`);
    return audit;
  }

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

/** Errors the server logged (an INTERNAL tool failure, a failed request) over every restart. */
function serverErrors(logPath: string): Check {
  const lines = readFileSync(logPath, "utf8").split("\n");
  const errors = lines.filter((line) => line.startsWith("pigeonhole error:"));
  return {
    check: "errors in the server log",
    ok: errors.length === 0,
    detail: errors.length
      ? `${errors.length}, first: ${errors[0]?.slice(0, 300)}`
      : `none in ${lines.length - 1} lines`,
  };
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (!options) {
    process.stdout.write(USAGE);
    return 0;
  }
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const began = performance.now();
  const home = await mkdtemp(join(tmpdir(), "pigeonhole-stress-"));
  const mailbox = await setUpMailbox(home, {
    httpSenders: options.senders,
    engineSenders: options.engineSenders,
    readers: options.readers,
    agentsPerSender: options.agents,
  });
  const server = new ServerProcess(home, await freePort(), join(home, "server.log"));
  const run = new Run(options, home, mailbox, server);
  const watchdog = setTimeout(() => {
    log(`time limit of ${options.timeout} s reached; stopping everything`);
    killWorkers(run.workers);
    void server.kill().finally(() => process.exit(2));
  }, options.timeout * 1000);
  let killRounds: KillRound[] = [];
  try {
    await server.start();
    log(`server at ${server.url}, mailbox ${home}, marker prefix ${run.prefix}`);

    log(
      `load phase: ${options.senders} HTTP + ${options.engineSenders} engine senders x ${options.messages} messages, ${options.readers} readers`,
    );
    const httpTotal = options.senders * options.messages;
    const load = run.startPhase("load", options.messages, () => run.httpReports / httpTotal);
    await run.finishPhase("load", load, false);
    run.audit("after load", true);
    run.integrity("after load", false);

    if (options.rounds > 0) {
      log(`kill phase: ${options.rounds} rounds of SIGKILL and restart under load`);
      // Senders run until the rounds are over; the cap only bounds a run whose rounds stall.
      const kill = run.startPhase("kill", options.messages * 10, () => run.roundsDone / options.rounds);
      try {
        killRounds = await run.killRounds();
      } finally {
        await run.finishPhase("kill", kill, true);
      }
      run.audit("after kill rounds", true);
    }
    await server.stop();
    run.integrity("end", true);
    run.checks.push(await checkArchiveComplete(home), serverErrors(join(home, "server.log")));
  } finally {
    clearTimeout(watchdog);
    run.stopPacing();
    killWorkers(run.workers);
    await server.kill();
  }

  const lost = run.audits.reduce((n, a) => n + a.audit.lost, 0) + killRounds.reduce((n, k) => n + k.lost, 0);
  const duplicated =
    run.audits.reduce((n, a) => n + a.audit.duplicated, 0) + killRounds.reduce((n, k) => n + k.duplicated, 0);
  run.checks.unshift(
    { check: "acknowledged sends lost", ok: lost === 0, detail: String(lost) },
    { check: "messages stored twice", ok: duplicated === 0, detail: String(duplicated) },
    {
      check: "worker processes",
      ok: run.failures.length === 0,
      detail: run.failures.length ? run.failures.join(" | ").slice(0, 500) : "all finished and reported",
    },
  );
  const report: StressReport = {
    machine,
    load_at_end: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    options: {
      senders: options.senders,
      "engine-senders": options.engineSenders,
      readers: options.readers,
      agents: options.agents,
      messages: options.messages,
      rounds: options.rounds,
      seed: options.seed,
    },
    started_at: startedAt,
    duration_s: Math.round((performance.now() - began) / 100) / 10,
    operations: run.operations,
    audits: run.audits,
    kill_rounds: killRounds,
    checks: run.checks,
    ok: run.checks.every((c) => c.ok !== false) && killRounds.every((k) => k.clean),
  };
  process.stdout.write(formatText(report));
  if (options.json) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
  if (options.markdown) writeMarkdownSection(options.markdown, report);
  if (options.keep) log(`mailbox kept at ${home}`);
  else await rm(home, { recursive: true, force: true });
  return report.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `stress: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 2;
  },
);
