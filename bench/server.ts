import { cp } from "node:fs/promises";
import { join } from "node:path";
import { openMailbox } from "../engine/index.js";
import {
  closedLoop,
  costRatio,
  type Latency,
  type LoopSamples,
  loopFigures,
  processCpuMs,
} from "./measure.js";
import { peakRss } from "./process-memory.js";
import {
  ArchiveWatch,
  LOAD_TOOLS,
  type LoadAgent,
  type LoadSession,
  type LoadTool,
  loadAgents,
  openSessions,
} from "./server-load.js";
import { type BenchServer, startBenchServer } from "./server-process.js";
import { measureToolsList, type ToolsListSize } from "./tools-list-size.js";
import type { BenchModule, BenchRow } from "./types.js";

/**
 * Server rows: tool calls per second, p50/p99 latency and the server's CPU per call of fetch_inbox and
 * send_message through the real `pigeonhole serve` over Streamable HTTP with 1, 8 and 32 concurrent
 * sessions, each against health_check on the same server at the same concurrency in the same run; and
 * the size of `tools/list` per profile.
 */

/** What the server benchmark runs; the defaults make the table, smaller counts make the smoke test. */
export interface ServerBenchOptions {
  /** Messages in the seeded mailbox the server runs on (a copy of the run's `ctx.seededMailbox`). */
  messages: number;
  /** Concurrent sessions, one closed loop each; a row group per entry. */
  concurrency: readonly number[];
  /** Timed calls per tool per concurrency level, spread over rounds and sessions. */
  calls: number;
  /** Rounds per level; each runs every tool once, alternating the order, so drift hits all tools alike. */
  rounds: number;
  /** Untimed calls per session per tool before a level's rounds. */
  warmup: number;
}

export const SERVER_BENCH_DEFAULTS: ServerBenchOptions = {
  messages: 10_000,
  concurrency: [1, 8, 32],
  calls: 768,
  rounds: 2,
  warmup: 5,
};

/** One tool's figures at one level; `server_cpu_ms` is the server's CPU per call (null without /proc). */
type Figures = Latency & { per_second: number; server_cpu_ms: number | null };

/** The figures of one concurrency level, per tool. */
interface LevelResult {
  sessions: number;
  figures: Record<LoadTool, Figures>;
}

/** A server bench module with `options` over the defaults. */
export function createServerBench(options: Partial<ServerBenchOptions> = {}): BenchModule {
  const o: ServerBenchOptions = { ...SERVER_BENCH_DEFAULTS, ...options };
  return {
    name: "server",
    memoryNote: "the SDK clients driving the server (1 to 32 sessions) and tools/list sizes",
    async run(ctx) {
      const rows = toolsListRows(await measureToolsList());
      const seeded = await ctx.seededMailbox(o.messages);
      // A copy, so the sent mail and the archive do not change the mailbox other modules get.
      const dir = await ctx.tempDir("server");
      const home = join(dir, "home");
      await cp(seeded.home, home, { recursive: true });
      // The seeded mailbox has no Git archive, and a server meeting an archive-less mailbox fills one
      // from the database on start: seconds of CPU that would land in the first level's figures.
      ctx.log("server: building the copy's Git archive before the server starts");
      const mailbox = openMailbox({ home, archive: true });
      await mailbox.flushArchive();
      await mailbox.close();
      const agents = loadAgents(home);
      ctx.log(
        `server: starting pigeonhole serve on a copy of the ${o.messages.toLocaleString("en-US")}-message mailbox`,
      );
      const server = await startBenchServer(home, join(dir, "server.log"), { PIGEONHOLE_RATE_LIMIT: "off" });
      const archive = new ArchiveWatch(server.url);
      const levels: LevelResult[] = [];
      try {
        for (const sessions of o.concurrency) {
          ctx.log(`server: ${sessions} concurrent session${sessions === 1 ? "" : "s"}`);
          levels.push({ sessions, figures: await measureLevel(server, agents, sessions, o, archive) });
        }
      } finally {
        ctx.memory(
          "pigeonhole serve",
          peakRss(server.pid),
          `the server under every load level (${o.concurrency.join(", ")} sessions), archive on`,
        );
        await server.stop();
      }
      rows.push(...loadRows(levels, o, agents.length, archive));
      return rows;
    },
  };
}

/** The module `npm run bench` runs. */
export const serverBench = createServerBench();

/** Open `sessions` sessions, warm up, then run the rounds; sessions are closed afterwards. */
async function measureLevel(
  server: BenchServer,
  agents: LoadAgent[],
  sessionCount: number,
  o: ServerBenchOptions,
  archive: ArchiveWatch,
): Promise<Record<LoadTool, Figures>> {
  const sessions = await openSessions(server.url, agents, sessionCount);
  const run = (tool: LoadTool, calls: number, into?: LoopSamples) =>
    closedLoop(sessionCount, calls, (w, i) => (sessions[w] as LoadSession).call(tool, i), into);
  try {
    for (const tool of LOAD_TOOLS) await run(tool, o.warmup);
    await archive.settle();
    const perSession = Math.max(1, Math.ceil(o.calls / (o.rounds * sessionCount)));
    const samples = {} as Record<LoadTool, LoopSamples>;
    const cpu = {} as Record<LoadTool, number | null>;
    for (const tool of LOAD_TOOLS) {
      samples[tool] = { samplesNs: [], wallNs: 0 };
      cpu[tool] = 0;
    }
    for (let round = 0; round < o.rounds; round++) {
      for (const tool of round % 2 === 0 ? LOAD_TOOLS : [...LOAD_TOOLS].reverse()) {
        const before = processCpuMs(server.pid);
        await run(tool, perSession, samples[tool]);
        const after = processCpuMs(server.pid);
        const spent = cpu[tool];
        cpu[tool] = before === null || after === null || spent === null ? null : spent + after - before;
        // The archive writes sent mail in the background; let it finish before another tool is timed.
        if (tool === "send_message") await archive.settle();
      }
    }
    const figures = {} as Record<LoadTool, Figures>;
    for (const tool of LOAD_TOOLS) {
      const calls = samples[tool].samplesNs.length;
      const spent = cpu[tool];
      figures[tool] = { ...loopFigures(samples[tool]), server_cpu_ms: spent === null ? null : spent / calls };
    }
    return figures;
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
}

const LABELS: Record<Exclude<LoadTool, "health_check">, (o: ServerBenchOptions) => string> = {
  fetch_inbox: (o) => `fetch_inbox (limit 20, ${o.messages.toLocaleString("en-US")} messages) over HTTP`,
  send_message: () => "send_message (1 recipient, 512 B body) over HTTP",
};

const NOTES: Record<
  Exclude<LoadTool, "health_check">,
  (o: ServerBenchOptions, agents: number, archive: ArchiveWatch) => string
> = {
  fetch_inbox: (o, agents) =>
    `pigeonhole serve (default config, rate limit off) on a copy of the run's seeded ${o.messages.toLocaleString("en-US")}-message mailbox; ` +
    `SDK Client sessions over Streamable HTTP from the bench process, each bound to one of ${agents} seeded agents by its registration token, ` +
    "one closed loop per session; unread notice on; client and server share the machine's cores",
  send_message: (_o, _agents, archive) =>
    archive.writing
      ? "archive on (server default); the server's Git archive is drained after each send loop, so its work is not timed in any tool's figures"
      : `archive on (server default), but no archive writer ran: sends queued ${archive.pending.toLocaleString("en-US")} archive jobs that nothing wrote, so no Git work is in these figures`,
};

/**
 * Per tool and level: calls/s, p50, p99 and the server's CPU per call, each against health_check at the
 * same level. Ratios are the cost of ours over the baseline's (health_check's rate over ours; our
 * latency or CPU over health_check's).
 */
function loadRows(
  levels: LevelResult[],
  o: ServerBenchOptions,
  agentCount: number,
  archive: ArchiveWatch,
): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const tool of ["fetch_inbox", "send_message"] as const) {
    for (const { sessions, figures } of levels) {
      const ours = figures[tool];
      const base = figures.health_check;
      const at = `${sessions} session${sessions === 1 ? "" : "s"}`;
      const name = `${LABELS[tool](o)}, ${at}`;
      const baseline = `health_check, ${at}`;
      const first = sessions === levels[0]?.sessions;
      const row = (
        what: string,
        unit: string,
        figure: number | null,
        baseFigure: number | null,
        ratio: number | null,
        note?: string,
      ): BenchRow => ({
        name: what ? `${name} ${what}` : name,
        figure,
        unit,
        baseline: what ? `${baseline} ${what}` : baseline,
        baseline_figure: baseFigure,
        ratio,
        target: "-",
        met: null,
        ...(note ? { note } : {}),
      });
      const perSecond = costRatio(base.per_second, ours.per_second);
      const cpuNote = ours.server_cpu_ms === null ? CPU_NOTE_MISSING : first ? CPU_NOTE : undefined;
      rows.push(
        row(
          "",
          "calls/s",
          ours.per_second,
          base.per_second,
          perSecond,
          first ? NOTES[tool](o, agentCount, archive) : undefined,
        ),
        row("p50", "ms", ours.p50, base.p50, costRatio(ours.p50, base.p50)),
        row("p99", "ms", ours.p99, base.p99, costRatio(ours.p99, base.p99)),
        row(
          "server CPU/call",
          "ms",
          ours.server_cpu_ms,
          base.server_cpu_ms,
          costRatio(ours.server_cpu_ms, base.server_cpu_ms),
          cpuNote,
        ),
      );
    }
  }
  return rows;
}

const CPU_NOTE =
  "the server process's CPU time (all threads, from /proc, 10 ms ticks) over the timed calls, per call: what a call costs the server however busy the machine is; includes its request log line";
const CPU_NOTE_MISSING = "needs /proc (Linux) to read the server's CPU time";

/** Characters and ≈tokens of `tools/list` per profile; the baseline of a smaller profile is `full`. */
function toolsListRows(sizes: ToolsListSize[]): BenchRow[] {
  const full = sizes.find((s) => s.profile === "full");
  return sizes.flatMap((s) => {
    const base = s === full ? undefined : full;
    const row = (what: string, unit: string, figure: number, baseFigure: number | undefined): BenchRow => ({
      name: `tools/list, ${s.profile} profile (${s.tools} tools) ${what}`,
      figure,
      unit,
      baseline: base ? `tools/list, full profile ${what}` : null,
      baseline_figure: baseFigure ?? null,
      ratio: base ? costRatio(figure, baseFigure ?? null) : null,
      target: "-",
      met: null,
    });
    return [
      row("size", "chars", s.chars, base?.chars),
      {
        ...row("≈tokens", "tokens", s.approx_tokens, base?.approx_tokens),
        ...(s === sizes[0] ? { note: "tokens ≈ characters / 4 of the JSON result (no tokenizer)" } : {}),
      },
    ];
  });
}
