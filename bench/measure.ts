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

function childrenCpuMs(): number {
  try {
    // Fields after the command name: cutime and cstime are the 14th and 15th, in clock ticks (100/s).
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100;
  } catch {
    return 0;
  }
}
