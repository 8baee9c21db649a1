import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Random } from "../../fixtures/random.js";
import { nowNs } from "../measure.js";
import { type CallOutcome, createCaller, type ToolCaller } from "./callers.js";
import type {
  AgentCredential,
  OperationStats,
  RunnerMessage,
  WorkerMessage,
  WorkerTask,
} from "./protocol.js";

/**
 * A stress worker process (forked by the runner with the path of its task file). A sender sends
 * `messages` uniquely marked messages, one loop per agent, and reports each outcome at once; a reader
 * fetches, peeks and searches until told to stop. Either reports its tallies when done.
 */

const task = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as WorkerTask;
const random = new Random(task.seed);
const stats = new Map<string, OperationStats>();
let stopRequested = false;
/** Share of the phase done (0..1), from the runner; unpaced workers run at full speed. */
let pace = task.paced ? 0 : 1;

process.on("message", (message: RunnerMessage) => {
  if (message.type === "stop") stopRequested = true;
  else if (message.type === "pace") pace = message.done;
});

function report(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send?.(message, undefined, {}, () => resolve());
  });
}

async function timed(caller: ToolCaller, tool: string, args: Record<string, unknown>): Promise<CallOutcome> {
  const started = nowNs();
  const outcome = await caller.call(tool, args);
  const elapsed = nowNs() - started;
  let tally = stats.get(tool);
  if (!tally) {
    tally = { operation: tool, ok: 0, errors: {}, latenciesNs: [] };
    stats.set(tool, tally);
  }
  if (outcome.ok) {
    tally.ok++;
    tally.latenciesNs.push(elapsed);
  } else {
    tally.errors[outcome.code] = (tally.errors[outcome.code] ?? 0) + 1;
  }
  return outcome;
}

const TRANSPORT_FAILURES = new Set(["SERVER_DOWN", "SESSION_GONE", "CONNECTION_LOST", "TIMEOUT"]);
let downFor = 0;

/**
 * A transport failure means the server is down (a kill round): back off, longer while it stays down
 * (50 ms doubling up to 400 ms, with jitter), so a slow restart is not drowned in refused connections.
 */
async function pauseAfter(outcome: CallOutcome): Promise<void> {
  if (outcome.ok || !TRANSPORT_FAILURES.has(outcome.code)) {
    downFor = 0;
    return;
  }
  downFor++;
  const base = Math.min(400, 50 * 2 ** Math.min(downFor - 1, 3));
  await sleep(base / 2 + random.int(base));
}

/**
 * Engine senders are much faster than HTTP ones: a paced sender keeps its share of sends done close to
 * the share of the phase the runner says is done, so that it writes while the server does.
 */
async function keepPace(counter: { next: number }): Promise<void> {
  while (!stopRequested && counter.next / task.messages > pace + 0.005) await sleep(10);
}

const WORDS = [
  "refactor",
  "parser",
  "migration",
  "review",
  "deploy",
  "lease",
  "schema",
  "flaky",
  "benchmark",
  "rollback",
  "naïve",
  "日本語",
  "émoji🙂",
  "cache",
];

function body(marker: string): string {
  const words = Array.from({ length: 5 + random.int(200) }, () => random.pick(WORDS));
  return `Marker: ${marker}\n\n${words.join(" ")}\n`;
}

function recipientsFor(agent: AgentCredential): string[] {
  const others = task.recipients.filter((name) => name !== agent.name);
  const first = random.pick(others);
  if (random.int(4) !== 0) return [first];
  const second = random.pick(others);
  return second === first ? [first] : [first, second];
}

async function senderLoop(caller: ToolCaller, agent: AgentCredential, counter: { next: number }) {
  while (!stopRequested && counter.next < task.messages) {
    const marker = `${task.prefix} ${task.id} #${counter.next++}`;
    const to = recipientsFor(agent);
    const outcome = await timed(caller, "send_message", {
      project_key: task.project,
      sender_name: agent.name,
      to,
      subject: marker,
      body_md: body(marker),
      importance: random.pick(["low", "normal", "normal", "high", "urgent"]),
      ack_required: random.int(5) === 0,
    });
    if (outcome.ok) {
      const id = (outcome.value as { deliveries: { payload: { id: number } }[] }).deliveries[0]?.payload.id;
      await report({ type: "ack", marker, id: id ?? -1, recipients: to.length });
    } else {
      await report({ type: "failed", marker, code: outcome.code, inDoubt: outcome.inDoubt });
    }
    await pauseAfter(outcome);
    await keepPace(counter);
  }
}

async function readerLoop(caller: ToolCaller, agent: AgentCredential) {
  const canSearch = task.channel !== "rest";
  for (let i = 0; !stopRequested; i++) {
    const base = { project_key: task.project, agent_name: agent.name };
    const step = i % (canSearch ? 3 : 2);
    const outcome =
      step === 0
        ? await timed(caller, "fetch_inbox", { ...base, limit: 20, include_bodies: random.int(2) === 0 })
        : step === 1
          ? await timed(caller, "peek_inbox", base)
          : await timed(caller, "search_messages", {
              ...base,
              query: random.pick(WORDS.slice(0, 10)),
              limit: 10,
            });
    await pauseAfter(outcome);
  }
}

async function main(): Promise<void> {
  const target = { url: task.url, home: task.home };
  // The engine needs no token, so one open mailbox serves every agent of the worker.
  const shared = task.channel === "engine" ? createCaller("engine", task.agents[0]!, target) : undefined;
  const callers = task.agents.map((agent) => shared ?? createCaller(task.channel, agent, target));
  const counter = { next: 0 };
  try {
    await Promise.all(
      task.agents.map((agent, i) =>
        task.role === "sender" ? senderLoop(callers[i]!, agent, counter) : readerLoop(callers[i]!, agent),
      ),
    );
  } finally {
    await Promise.all([...new Set(callers)].map((c) => c.close()));
  }
  await report({ type: "done", stats: [...stats.values()] });
  process.disconnect?.();
}

main().catch(async (error: unknown) => {
  await report({
    type: "fatal",
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  process.exitCode = 1;
  process.disconnect?.();
});
