import { readFileSync } from "node:fs";

/**
 * Timing helpers for the benchmarks: monotonic nanosecond clocks, percentiles, and paired sampling
 * (ours and the baseline alternate, so load from other processes hits both alike).
 */

/** Nanoseconds since an arbitrary origin (process.hrtime.bigint as a number: exact below 2^53 ns ≈ 104 days). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** The `p`-th percentile (0..100, nearest rank) of `samples`, which this sorts in place. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  samples.sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * samples.length);
  return samples[Math.min(samples.length, Math.max(1, rank)) - 1] as number;
}

/** Latency percentiles in milliseconds. */
export interface Latency {
  p50: number;
  p99: number;
  count: number;
}

/** p50 and p99 (ms) of samples given in nanoseconds. */
export function latency(samplesNs: number[]): Latency {
  return {
    p50: percentile(samplesNs, 50) / 1e6,
    p99: percentile(samplesNs, 99) / 1e6,
    count: samplesNs.length,
  };
}

/**
 * Time `ours` and `baseline` on the same inputs: `warmup` untimed rounds, then `iterations` timed ones,
 * alternating which runs first. Input `i` comes from `input(i)`.
 */
export function pairedLatency<I>(
  input: (i: number) => I,
  ours: (x: I) => unknown,
  baseline: (x: I) => unknown,
  options: { warmup: number; iterations: number },
): { ours: Latency; baseline: Latency } {
  for (let i = 0; i < options.warmup; i++) {
    const x = input(i);
    ours(x);
    baseline(x);
  }
  const a: number[] = [];
  const b: number[] = [];
  const timeOne = (fn: (x: I) => unknown, x: I, into: number[]) => {
    const start = nowNs();
    fn(x);
    into.push(nowNs() - start);
  };
  for (let i = 0; i < options.iterations; i++) {
    const x = input(options.warmup + i);
    if (i % 2 === 0) {
      timeOne(ours, x, a);
      timeOne(baseline, x, b);
    } else {
      timeOne(baseline, x, b);
      timeOne(ours, x, a);
    }
  }
  return { ours: latency(a), baseline: latency(b) };
}

/** Per-call latencies and wall time of closed-loop runs, accumulated over one or more runs. */
export interface LoopSamples {
  /** One entry per call, in nanoseconds. */
  samplesNs: number[];
  /** Sum of the runs' wall times (first call started to last call ended), in nanoseconds. */
  wallNs: number;
}

/**
 * Run `workers` closed loops at once: each makes `callsPerWorker` calls one after another (the next
 * starts when the previous answered), so `workers` is the number of calls in flight. Every call's latency
 * and the run's wall time are added to `into` (a new record by default). A call that throws ends the run
 * with that error.
 */
export async function closedLoop(
  workers: number,
  callsPerWorker: number,
  call: (worker: number, i: number) => Promise<unknown>,
  into: LoopSamples = { samplesNs: [], wallNs: 0 },
): Promise<LoopSamples> {
  const loop = async (worker: number) => {
    for (let i = 0; i < callsPerWorker; i++) {
      const start = nowNs();
      await call(worker, i);
      into.samplesNs.push(nowNs() - start);
    }
  };
  const start = nowNs();
  await Promise.all(Array.from({ length: workers }, (_, w) => loop(w)));
  into.wallNs += nowNs() - start;
  return into;
}

/** Latency percentiles and throughput (calls per second of wall time) of `samples`. */
export function loopFigures(samples: LoopSamples): Latency & { per_second: number } {
  const count = samples.samplesNs.length;
  return {
    ...latency(samples.samplesNs),
    per_second: samples.wallNs > 0 ? count / (samples.wallNs / 1e9) : 0,
  };
}

/** Ratio of two costs, rounded to two decimals; null when either is missing or the base is zero. */
export function costRatio(ours: number | null, base: number | null): number | null {
  if (ours === null || base === null || !Number.isFinite(ours) || !Number.isFinite(base) || base === 0)
    return null;
  return Math.round((ours / base) * 100) / 100;
}

/**
 * CPU milliseconds used so far by this process plus its exited children (git, for the archive), read
 * from /proc on Linux (children count 0 elsewhere). On a shared machine CPU time says what our code
 * costs; wall time also says how busy the neighbours are.
 */
export function cpuMs(): number {
  const self = process.resourceUsage();
  return (self.userCPUTime + self.systemCPUTime) / 1000 + childrenCpuMs();
}

/**
 * CPU milliseconds used so far by the live process `pid` (all its threads), from /proc on Linux; null
 * where /proc is missing or the process is gone. Resolution is one clock tick (10 ms).
 */
export function processCpuMs(pid: number): number | null {
  const fields = procStat(String(pid));
  return fields ? ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 : null;
}

/** CPU milliseconds used so far by this process's exited children (git, for the archive); 0 without /proc. */
export function childrenCpuMs(): number {
  const fields = procStat("self");
  return fields ? ((Number(fields[13]) + Number(fields[14])) * 1000) / 100 : 0;
}

/**
 * The fields of /proc/<pid>/stat after the command name (so index 0 is the state): utime and stime are
 * at 11 and 12, cutime and cstime at 13 and 14, in clock ticks (100/s). Null when unreadable.
 */
function procStat(pid: string): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? null;
  } catch {
    return null;
  }
}
