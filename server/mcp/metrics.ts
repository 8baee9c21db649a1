/**
 * Process-wide tool metrics: calls, errors by code and latency percentiles per tool, exposed as the
 * `resource://tooling/metrics` resource and in `/health`. Latencies keep the most recent samples only, so
 * memory stays bounded however long the server runs.
 */
const SAMPLES = 1024;

interface ToolStats {
  calls: number;
  errors: Record<string, number>;
  latencies: number[];
  next: number;
}

export interface ToolMetricsReport {
  tool: string;
  calls: number;
  errors: Record<string, number>;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export class ToolMetrics {
  private readonly stats = new Map<string, ToolStats>();
  readonly started = new Date().toISOString();

  /** Record one call of `tool` that took `ms` and ended in `errorCode` (or succeeded). */
  record(tool: string, ms: number, errorCode?: string): void {
    let s = this.stats.get(tool);
    if (!s) {
      s = { calls: 0, errors: {}, latencies: [], next: 0 };
      this.stats.set(tool, s);
    }
    s.calls++;
    if (errorCode) s.errors[errorCode] = (s.errors[errorCode] ?? 0) + 1;
    if (s.latencies.length < SAMPLES) s.latencies.push(ms);
    else s.latencies[s.next] = ms;
    s.next = (s.next + 1) % SAMPLES;
  }

  /** A snapshot per tool, sorted by name. */
  report(): { started: string; tools: ToolMetricsReport[] } {
    const tools = [...this.stats.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([tool, s]) => {
        const sorted = [...s.latencies].sort((a, b) => a - b);
        const pct = (p: number) => {
          const value = sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
          return value === undefined ? null : Math.round(value * 1000) / 1000;
        };
        return {
          tool,
          calls: s.calls,
          errors: { ...s.errors },
          p50_ms: pct(0.5),
          p95_ms: pct(0.95),
          p99_ms: pct(0.99),
        };
      });
    return { started: this.started, tools };
  }
}
