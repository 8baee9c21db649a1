import { fail } from "../../engine/index.js";

/**
 * Token-bucket rate limiting, one bucket per key (an authenticated principal, or the remote address of an
 * anonymous or unauthenticated caller). A bucket holds up to `burst` tokens and refills at `perSecond`;
 * a request takes one token. Memory is bounded: a bucket idle long enough to be full again is the same as
 * no bucket, and beyond `maxKeys` the least recently used bucket is dropped.
 */

/** A rate (requests per second) and the burst a quiet caller may spend at once. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

/** Generous enough that no well-behaved agent meets it; a runaway loop does. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 50, burst: 100 };

/** The decision for one request. */
export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updated: number;
}

const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  second: 1,
  m: 60,
  min: 60,
  minute: 60,
  h: 3600,
  hour: 3600,
};

/**
 * Parse PIGEONHOLE_RATE_LIMIT (`20/s`, `600/m`, `1000/h`; `0` or `off` disables: `undefined`) and
 * PIGEONHOLE_RATE_BURST (whole number >= 1; default twice the per-second rate, at least 1). Throws
 * INVALID_ARGUMENT with the accepted forms.
 */
export function parseRateLimit(rate: string | undefined, burst: string | undefined): RateLimit | undefined {
  let perSecond = DEFAULT_RATE_LIMIT.perSecond;
  let defaultBurst = DEFAULT_RATE_LIMIT.burst;
  if (rate !== undefined && rate.trim() !== "") {
    const text = rate.trim().toLowerCase();
    if (text === "0" || text === "off") return undefined;
    const match = /^(\d+(?:\.\d+)?)\s*\/\s*([a-z]+)$/.exec(text);
    const unit = match ? UNITS[match[2] as string] : undefined;
    const count = Number(match?.[1]);
    if (!match || unit === undefined || !(count > 0)) {
      throw fail.invalid(
        `PIGEONHOLE_RATE_LIMIT must look like 20/s, 600/m or 1000/h (or 0/off to disable); got ${JSON.stringify(rate)}`,
      );
    }
    perSecond = count / unit;
    defaultBurst = Math.max(1, Math.ceil(perSecond * 2));
  }
  if (burst === undefined || burst.trim() === "") return { perSecond, burst: defaultBurst };
  const n = Number(burst.trim());
  if (!/^\d+$/.test(burst.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw fail.invalid(
      `PIGEONHOLE_RATE_BURST must be a whole number of requests, at least 1; got ${JSON.stringify(burst)}`,
    );
  }
  return { perSecond, burst: n };
}

/** The limit as people write it: `20/s`, or `2/m` when under one per second; with its burst. */
export function describeRateLimit(limit: RateLimit): string {
  const rate = limit.perSecond >= 1 ? `${limit.perSecond}/s` : `${Math.round(limit.perSecond * 3600) / 60}/m`;
  return `${rate}, burst ${limit.burst}`;
}

/** Per-key token buckets. `now` (milliseconds, monotonic) is injectable so tests need no clock. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly limit: RateLimit,
    private readonly maxKeys = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Take one token from `key`'s bucket; when empty, say how many whole seconds until one is back. */
  take(key: string): RateDecision {
    const now = this.now();
    const { perSecond, burst } = this.limit;
    const existing = this.buckets.get(key);
    const tokens = existing
      ? Math.min(burst, existing.tokens + ((now - existing.updated) / 1000) * perSecond)
      : burst;
    // Re-inserting keeps the map in least-recently-used order for eviction.
    this.buckets.delete(key);
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, updated: now });
      this.evict(now);
      return { allowed: true };
    }
    this.buckets.set(key, { tokens, updated: now });
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perSecond)) };
  }

  /** Buckets currently held (for tests of the memory bound). */
  get size(): number {
    return this.buckets.size;
  }

  private evict(now: number): void {
    // The map is in least-recently-used order, so idle buckets sit at its front.
    const refillMs = (this.limit.burst / this.limit.perSecond) * 1000;
    for (const [key, bucket] of this.buckets) {
      const idle = now - bucket.updated >= refillMs;
      if (!idle && this.buckets.size <= this.maxKeys) break;
      // A refilled bucket carries no state; any other is dropped only to honour the bound.
      this.buckets.delete(key);
    }
  }
}
