import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkArchive } from "../../engine/archive/doctor.js";
import {
  acquireLease,
  holderIsDead,
  newHolderId,
  readLease,
  releaseLease,
  releaseLeaseIfIdle,
} from "../../engine/archive/lease.js";
import { type DrainedBatch, startArchiveWriter } from "../../engine/archive/writer.js";
import { isPigeonholeError } from "../../engine/errors.js";
import type { Mailbox } from "../../engine/mailbox.js";
import {
  commitSummaries,
  jobCount,
  mailboxWithoutWriter,
  send,
  sendMany,
  smallWorld,
  tempHome,
} from "./helpers/archive-data.js";

const open: Mailbox[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const mb of open.splice(0)) await mb.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function mailbox(home?: string): Mailbox {
  let dir = home;
  if (!dir) {
    const t = tempHome();
    cleanups.push(t.cleanup);
    dir = t.home;
  }
  const mb = mailboxWithoutWriter(dir);
  open.push(mb);
  return mb;
}

/** A holder on another machine: never considered dead, only outwaited. */
const FOREIGN = "pigeonhole:some-other-host:4242:0123456789ab";

describe("archive lease", () => {
  it("is held by one holder at a time, renewed by it, taken over once expired", () => {
    const mb = mailbox();
    const a = newHolderId();
    const b = newHolderId();
    expect(a).not.toBe(b);
    const now = 1_000_000;
    expect(acquireLease(mb, a, 10_000, now)).toEqual({
      acquired: true,
      tookOver: false,
      holder: a,
      expires_ms: now + 10_000,
    });
    expect(acquireLease(mb, b, 10_000, now + 1).acquired).toBe(false);
    expect(acquireLease(mb, a, 10_000, now + 5_000)).toEqual(
      expect.objectContaining({ acquired: true, tookOver: false }),
    );
    expect(readLease(mb)).toEqual({ holder: a, expires_ms: now + 15_000 });
    expect(acquireLease(mb, b, 10_000, now + 14_999).acquired).toBe(false);
    expect(acquireLease(mb, b, 10_000, now + 15_000)).toEqual(
      expect.objectContaining({ acquired: true, tookOver: true }),
    );
    expect(releaseLease(mb, a)).toBe(false);
    expect(releaseLease(mb, b)).toBe(true);
    expect(readLease(mb)).toEqual({ holder: null, expires_ms: 0 });
  });

  it("is released when idle only if no job is queued", () => {
    const mb = mailbox();
    const a = newHolderId();
    smallWorld(mb); // queues jobs
    expect(acquireLease(mb, a, 10_000).acquired).toBe(true);
    expect(releaseLeaseIfIdle(mb, a)).toBe(false);
    expect(readLease(mb).holder).toBe(a);
    mb.db.exec("DELETE FROM archive_jobs");
    expect(releaseLeaseIfIdle(mb, a)).toBe(true);
    expect(readLease(mb).holder).toBeNull();
  });

  it("sees a holder on this host whose process has exited as dead, and nobody else", async () => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => child.on("exit", resolve));
    expect(holderIsDead(`pigeonhole:${hostname()}:${child.pid}:abcdef`)).toBe(true);
    expect(holderIsDead(newHolderId())).toBe(false);
    expect(holderIsDead(`pigeonhole:${hostname()}:${process.ppid}:abcdef`)).toBe(false);
    expect(holderIsDead(FOREIGN)).toBe(false);
    expect(holderIsDead("something else")).toBe(false);
  });
});

describe("one archive writer at a time", () => {
  it("leaves jobs to another process's live lease; flush waits for them and says why when it gives up", async () => {
    const mb = mailbox();
    mb.db
      .prepare("UPDATE archive_lease SET holder = ?, expires_ms = ? WHERE id = 1")
      .run(FOREIGN, Date.now() + 60_000);
    const batches: DrainedBatch[] = [];
    const writer = startArchiveWriter(mb, {
      flushTimeoutMs: 300,
      pollMs: 20,
      onBatch: (b) => batches.push(b),
    });
    mb.archive = writer;
    const { project, a, b } = smallWorld(mb);
    await send(mb, { project, from: a, to: [b] });

    let error: unknown;
    try {
      await writer.flush();
    } catch (e) {
      error = e;
    }
    expect(isPigeonholeError(error) && error.code).toBe("BUSY");
    expect((error as Error).message).toContain(`Another process (${FOREIGN}) holds the archive lease`);
    expect(batches).toEqual([]);
    expect(jobCount(mb)).toBe(4);

    // The other process finishes without draining (it died; its lease ran out): this writer takes over.
    mb.db.prepare("UPDATE archive_lease SET expires_ms = ? WHERE id = 1").run(Date.now() - 1);
    await writer.flush();
    expect(jobCount(mb)).toBe(0);
    expect(batches.length).toBeGreaterThan(0);
    expect((await checkArchive(mb)).ok).toBe(true);
  });

  it("flush ends once the jobs from before the call are gone, while later jobs keep arriving with new ids", async () => {
    const mb = mailbox();
    mb.db
      .prepare("UPDATE archive_lease SET holder = ?, expires_ms = ? WHERE id = 1")
      .run(FOREIGN, Date.now() + 60_000);
    const writer = startArchiveWriter(mb, { pollMs: 10, flushTimeoutMs: 5000 });
    mb.archive = writer;
    smallWorld(mb);
    expect(jobCount(mb)).toBe(3);
    let flushed = false;
    const flushing = writer.flush().then(() => {
      flushed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(flushed).toBe(false);

    // The lease holder drains those jobs; new mail arrives, and its jobs never reuse the freed ids.
    mb.db.exec("DELETE FROM archive_jobs");
    const { project, a, b } = smallWorld(mb, "other");
    await send(mb, { project, from: a, to: [b] });
    const ids = (mb.db.prepare("SELECT id FROM archive_jobs ORDER BY id").all() as { id: number }[]).map(
      (r) => r.id,
    );
    expect(ids[0]).toBeGreaterThan(3);
    await flushing;
    expect(flushed).toBe(true);
    expect(jobCount(mb)).toBe(4);
  });

  it("lets two mailboxes in one process share an archive: only the lease holder writes, both flushes resolve", async () => {
    const first = mailbox();
    const second = mailbox(first.paths.home);
    const violations: string[] = [];
    const writers = new Map<string, number>();
    const observe = (mb: Mailbox) => (batch: DrainedBatch) => {
      const holder = readLease(mb).holder;
      if (holder !== batch.holder) violations.push(`${batch.holder} wrote while ${holder} held the lease`);
      writers.set(batch.holder, (writers.get(batch.holder) ?? 0) + 1);
    };
    first.archive = startArchiveWriter(first, { debounceMs: 1, batchSize: 50, onBatch: observe(first) });
    second.archive = startArchiveWriter(second, { debounceMs: 1, batchSize: 50, onBatch: observe(second) });

    const { project, a, b } = smallWorld(first);
    const ids: number[] = [];
    for (let round = 0; round < 10; round++) {
      const mb = round % 2 === 0 ? first : second;
      ids.push(
        ...(await sendMany(mb, 30, (i) => ({ project, from: a, to: [b], subject: `R${round} ${i}` }))),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all([first.flushArchive(), second.flushArchive()]);

    expect(violations).toEqual([]);
    expect(jobCount(first)).toBe(0);
    expect(ids).toHaveLength(300);
    const check = await checkArchive(second);
    expect(check).toEqual(expect.objectContaining({ ok: true, missing: [] }));
    expect((await commitSummaries(first.paths.archive)).length).toBeGreaterThan(1);
    expect([...writers.values()].reduce((n, v) => n + v, 0)).toBeGreaterThan(0);
  });

  it("an idle writer picks up jobs that nobody woke it for", async () => {
    const idle = mailbox();
    idle.archive = startArchiveWriter(idle, { idlePollMs: 50 });
    await idle.flushArchive();
    // Another process queues jobs and dies before draining them (its mailbox has no writer here).
    const other = mailbox(idle.paths.home);
    const { project, a, b } = smallWorld(other);
    await send(other, { project, from: a, to: [b], subject: "Left behind" });
    expect(jobCount(idle)).toBeGreaterThan(0);
    await vi.waitFor(() => expect(jobCount(idle)).toBe(0), { timeout: 10_000, interval: 25 });
    expect((await checkArchive(idle)).ok).toBe(true);
  });

  it("close stops after its time budget, leaving the rest queued and the lease free", async () => {
    const mb = mailbox();
    const { project, a, b } = smallWorld(mb);
    await sendMany(mb, 300, (i) => ({ project, from: a, to: [b], subject: `Backlog ${i}` }));
    const batches: DrainedBatch[] = [];
    const writer = startArchiveWriter(mb, {
      batchSize: 100,
      closeTimeoutMs: 0,
      onBatch: (x) => batches.push(x),
    });
    await writer.close();
    expect(batches.length).toBeLessThanOrEqual(1);
    expect(jobCount(mb)).toBeGreaterThan(0);
    expect(readLease(mb)).toEqual({ holder: null, expires_ms: 0 });

    const next = startArchiveWriter(mb);
    await next.flush();
    await next.close();
    expect(jobCount(mb)).toBe(0);
  });

  it("close drains what it can and releases the lease", async () => {
    const mb = mailbox();
    const writer = startArchiveWriter(mb);
    mb.archive = writer;
    smallWorld(mb);
    await writer.close();
    expect(jobCount(mb)).toBe(0);
    expect(readLease(mb)).toEqual({ holder: null, expires_ms: 0 });
    // A closed writer still answers flush (by polling) and ignores wakes.
    writer.wake();
    await writer.flush();
  });
});
