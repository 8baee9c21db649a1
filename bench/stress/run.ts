import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../fixtures/local-process.js";
import { machineInfo } from "../report.js";
import { checkArchiveComplete } from "./archive-check.js";
import { auditChecks } from "./audit.js";
import { parseOptions, USAGE } from "./options.js";
import { log, StressRun } from "./phases.js";
import { type Check, formatText, type KillRound, type StressReport, writeMarkdownSection } from "./report.js";
import { ServerProcess } from "./server-process.js";
import { setUpMailbox } from "./setup.js";
import { killWorkers } from "./workers.js";

/**
 * `npm run stress [-- options]`: many processes send uniquely marked messages through a real
 * `pigeonhole serve` (MCP over Streamable HTTP and REST) and through the engine directly, while readers
 * fetch, peek and search; then every acknowledged send is looked up in the database. A second phase
 * SIGKILLs the server at random moments under load and restarts it, auditing after every restart.
 * Loopback only; bounded by counts and by `--timeout`. Exits 1 when anything was lost or duplicated or a
 * check failed, 2 when the run could not finish.
 */

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
  const run = new StressRun(options, home, mailbox, server);
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

  run.checks.unshift(...auditChecks(run.audits, run.ledger), {
    check: "worker processes",
    ok: run.workerFailures.length === 0,
    detail: run.workerFailures.length
      ? run.workerFailures.join(" | ").slice(0, 500)
      : "all finished and reported",
  });
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
    audits: run.audits.filter((a) => a.sendersDone).map(({ phase, audit }) => ({ phase, audit })),
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
