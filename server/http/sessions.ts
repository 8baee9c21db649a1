import type { ServerResponse } from "node:http";
import type { Logger } from "../log.js";

/**
 * The lifecycle of live MCP sessions on the HTTP transport. A client that vanishes without sending DELETE
 * would otherwise leave its transport and SDK server behind forever, so sessions are freed two ways:
 * idle expiry (no request for longer than `idleTimeoutMs`) and, when `maxSessions` are live, eviction of
 * the longest-idle one to make room. A session with an open response (a GET notification stream, or a
 * request being answered) is busy: it is never expired or evicted, whatever its age.
 */

/** How long a session may sit idle, and how many may be live at once. */
export interface SessionLimits {
  idleTimeoutMs: number;
  maxSessions: number;
}

/** 30 minutes idle; 1,000 live sessions. */
export const DEFAULT_SESSION_LIMITS: Readonly<SessionLimits> = {
  idleTimeoutMs: 30 * 60_000,
  maxSessions: 1000,
};

/** A session's activity: how many of its responses are open, and when the last one started or ended. */
export interface SessionActivity {
  open: number;
  lastActive: number;
}

/** Why a session was closed by the table (not by its client). */
export type CloseReason = "expired" | "evicted" | "shutdown";

/** What `/health` shows about sessions: live count and limits, and totals since start. */
export interface SessionStats {
  live: number;
  max: number;
  idle_timeout_ms: number;
  expired: number;
  evicted: number;
  refused: number;
}

interface Entry<T> {
  value: T;
  principal: string;
  activity: SessionActivity;
}

/** A reserved place for one session being initialized; `release` once the initialize request is done. */
export interface SessionSlot {
  release(): void;
}

/**
 * Live sessions keyed by id, with their activity. `closeSession` frees one session's resources (it may
 * call `delete` for that session again: deleting is idempotent). One unref'd timer sweeps for idle
 * sessions, running only while any are live. `now` (milliseconds, monotonic) is injectable so tests need no clock.
 */
export class SessionTable<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly totals = { expired: 0, evicted: 0, refused: 0 };

  constructor(
    readonly limits: SessionLimits,
    private readonly closeSession: (value: T) => Promise<void>,
    private readonly log: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A fresh activity record, to track the initialize request before the session has an id. */
  newActivity(): SessionActivity {
    return { open: 0, lastActive: this.now() };
  }

  /** Count `res` as open on `activity` until it closes (the client hung up or the answer was sent). */
  track(activity: SessionActivity, res: ServerResponse): void {
    activity.open++;
    activity.lastActive = this.now();
    res.once("close", () => {
      activity.open--;
      activity.lastActive = this.now();
    });
  }

  /** Add a session that has just been initialized. */
  add(id: string, value: T, principal: string, activity: SessionActivity): void {
    this.entries.set(id, { value, principal, activity });
    if (!this.timer) {
      // Often enough that a session outlives its timeout by at most a quarter of it (or a minute).
      const every = Math.min(60_000, Math.max(25, Math.floor(this.limits.idleTimeoutMs / 4)));
      this.timer = setInterval(() => void this.sweep(), every);
      this.timer.unref();
    }
  }

  /** The live session `id` (its value and activity), if any. */
  get(id: string): { value: T; activity: SessionActivity } | undefined {
    return this.entries.get(id);
  }

  /** Forget `id` (its client ended it, or it was closed); stops the sweep when none are left. */
  delete(id: string): void {
    this.entries.delete(id);
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Live sessions. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Make room for one more session: below the limit at once; at it, by evicting the longest-idle session
   * that is not busy. `undefined` when every session is busy (the caller must refuse, never drop one).
   */
  async reserve(): Promise<SessionSlot | undefined> {
    if (this.entries.size + this.pending >= this.limits.maxSessions) {
      const victim = this.longestIdle();
      if (!victim) {
        this.totals.refused++;
        this.log.warn("mcp session refused: session limit reached, every session busy", {
          live: this.entries.size,
          max: this.limits.maxSessions,
        });
        return undefined;
      }
      this.totals.evicted++;
      await this.close(victim, "evicted");
    }
    this.pending++;
    let released = false;
    return {
      release: () => {
        if (!released) this.pending--;
        released = true;
      },
    };
  }

  /** Close every session idle for longer than the timeout (the timer calls this). */
  async sweep(): Promise<void> {
    const now = this.now();
    const idle = [...this.entries].filter(
      ([, e]) => e.activity.open === 0 && now - e.activity.lastActive > this.limits.idleTimeoutMs,
    );
    for (const [id] of idle) {
      this.totals.expired++;
      await this.close(id, "expired");
    }
  }

  /** Close every session and stop the sweep. */
  async closeAll(): Promise<void> {
    for (const id of [...this.entries.keys()]) await this.close(id, "shutdown");
  }

  /** Live count, limits and totals since start. */
  stats(): SessionStats {
    return {
      live: this.entries.size,
      max: this.limits.maxSessions,
      idle_timeout_ms: this.limits.idleTimeoutMs,
      ...this.totals,
    };
  }

  private longestIdle(): string | undefined {
    let found: [string, number] | undefined;
    for (const [id, e] of this.entries) {
      if (e.activity.open > 0) continue;
      if (!found || e.activity.lastActive < found[1]) found = [id, e.activity.lastActive];
    }
    return found?.[0];
  }

  private async close(id: string, reason: CloseReason): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    // Gone from the table first, so a request arriving while it closes gets the unknown-session answer.
    this.delete(id);
    if (reason !== "shutdown") {
      // Never the session id: without auth it is all a caller needs to use the session.
      this.log.info(`mcp session ${reason}`, {
        principal: entry.principal,
        idle_ms: Math.round(this.now() - entry.activity.lastActive),
        live: this.entries.size,
      });
    }
    try {
      await this.closeSession(entry.value);
    } catch (error) {
      this.log.warn("closing an mcp session failed", {
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
