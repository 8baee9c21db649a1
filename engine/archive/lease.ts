import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Mailbox } from "../mailbox.js";

/**
 * The single-writer lease of the Git archive: the one row of `archive_lease`. Whoever holds an unexpired
 * lease is the only process that writes the archive; everyone else leaves their jobs in the queue for it.
 * Every change happens in an immediate transaction, so two processes can never both believe they hold it.
 */

/** The lease row as stored. `holder` is null when nobody holds it. */
export interface LeaseState {
  holder: string | null;
  expires_ms: number;
}

/** The outcome of `acquireLease`. */
export interface LeaseGrant {
  acquired: boolean;
  /** True when the lease was taken from another holder that expired or died (its locks may be stale). */
  tookOver: boolean;
  /** The holder after the call (this holder when acquired, else the live one). */
  holder: string | null;
  expires_ms: number;
}

/**
 * A holder id unique to this process and mailbox: `pigeonhole:<host>:<pid>:<random>`. Host and pid let
 * another process on the same machine see that a holder has died without waiting for its lease to expire.
 */
export function newHolderId(): string {
  return `pigeonhole:${hostname()}:${process.pid}:${randomBytes(6).toString("hex")}`;
}

/** The current lease row. */
export function readLease(mb: Mailbox): LeaseState {
  return (
    mb.statement<LeaseState>("SELECT holder, expires_ms FROM archive_lease WHERE id = 1").get() ?? {
      holder: null,
      expires_ms: 0,
    }
  );
}

/**
 * Take or renew the lease for `ttlMs`. Succeeds when nobody holds it, when `holder` already does, when
 * the holder's lease has expired, or when the holder is a process on this host that no longer exists.
 * A live lease of someone else is never taken.
 */
export function acquireLease(mb: Mailbox, holder: string, ttlMs: number, nowMs = Date.now()): LeaseGrant {
  return mb.write(() => {
    const current = readLease(mb);
    const free = current.holder === null || current.holder === holder;
    const stale = !free && (current.expires_ms <= nowMs || holderIsDead(current.holder as string));
    if (!free && !stale) return { acquired: false, tookOver: false, ...current };
    const expires_ms = nowMs + ttlMs;
    mb.statement("UPDATE archive_lease SET holder = ?, expires_ms = ? WHERE id = 1").run(holder, expires_ms);
    return { acquired: true, tookOver: stale, holder, expires_ms };
  });
}

/** Give the lease up if `holder` holds it. Returns whether it did. */
export function releaseLease(mb: Mailbox, holder: string): boolean {
  return mb.write(
    () =>
      mb
        .statement("UPDATE archive_lease SET holder = NULL, expires_ms = 0 WHERE id = 1 AND holder = ?")
        .run(holder).changes > 0,
  );
}

/**
 * Give the lease up only if the job queue is empty, checked in the same transaction. A process that
 * queues a job either commits before this check (and the holder keeps draining) or after the release
 * (and finds the lease free), so no job is ever left without a writer to drain it.
 */
export function releaseLeaseIfIdle(mb: Mailbox, holder: string): boolean {
  return mb.write(() => {
    if (mb.statement("SELECT 1 FROM archive_jobs LIMIT 1").get() !== undefined) return false;
    mb.statement("UPDATE archive_lease SET holder = NULL, expires_ms = 0 WHERE id = 1 AND holder = ?").run(
      holder,
    );
    return true;
  });
}

/**
 * True when `holder` names a process on this host that has exited. Holders on other hosts, in this
 * process, or in a form we do not recognize are assumed alive: they are only ever outwaited.
 */
export function holderIsDead(holder: string): boolean {
  const match = /^pigeonhole:(.*):(\d+):[0-9a-f]+$/.exec(holder);
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
