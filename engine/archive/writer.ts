import { setTimeout as sleep } from "node:timers/promises";
import { PigeonholeError } from "../errors.js";
import type { ArchiveSink, Mailbox } from "../mailbox.js";
import {
  type ArchiveJob,
  countArchiveJobs,
  deleteArchiveJobs,
  enqueueEverything,
  hasArchiveJobsUpTo,
  lastArchiveJobId,
  readArchiveJobs,
} from "./jobs.js";
import {
  acquireLease,
  holderIsDead,
  newHolderId,
  readLease,
  releaseLease,
  releaseLeaseIfIdle,
} from "./lease.js";
import { batchTargets, commitSummary, type RenderedChunk, renderChunks } from "./load.js";
import { ArchiveRepo } from "./repo.js";

/** Tuning of the archive writer. The defaults suit a mailbox shared by a handful of processes. */
export interface ArchiveWriterOptions {
  /**
   * Jobs drained per commit. Default 5000: fewer, larger commits cost less Git time per message (a
   * 10,000-message burst measured 0.9 s of CPU at 5000 against 1.2 s at 2000 and 1.65 s at 1000), and
   * memory stays bounded because a batch is rendered 250 rows at a time.
   */
  batchSize?: number;
  /** Delay between a wake and the drain it triggers, so a burst of sends becomes one batch. Default 20 ms. */
  debounceMs?: number;
  /** Lease lifetime; renewed before every batch and commit, and every third of it while draining. Default 10 s. */
  leaseTtlMs?: number;
  /** How often a process whose jobs wait on another process's lease checks again. Default 200 ms. */
  pollMs?: number;
  /** `flush()` gives up (BUSY) after this long. Default 60 s. */
  flushTimeoutMs?: number;
  /**
   * `close()` stops draining after this long (finishing the batch in hand): a short-lived process, such as
   * a CLI call, must not wait for another process's backlog. The rest stays queued. Default 5 s.
   */
  closeTimeoutMs?: number;
  /**
   * How often an idle writer looks for jobs nobody is draining (left by a process that died or closed
   * with a backlog while this one had nothing to write). Default 30 s.
   */
  idlePollMs?: number;
  /** First retry delay after a failure; doubles per failure up to `retryMaxMs`. Default 1 s. */
  retryBaseMs?: number;
  /** Longest retry delay. Default 60 s. */
  retryMaxMs?: number;
  /** Where failures are reported, one line each. Default: stderr. */
  log?: (line: string) => void;
  /** Called after every drained batch (tests and benchmarks observe the writer through it). */
  onBatch?: (batch: DrainedBatch) => void;
}

/** What one drained batch did. */
export interface DrainedBatch {
  holder: string;
  jobs: number;
  files: number;
  /** False when every file already had its content (no commit was needed). */
  committed: boolean;
}

/** A batch whose files are written and not yet committed. */
interface WrittenBatch {
  paths: string[];
  summary: string;
}

const DEFAULTS = {
  batchSize: 5000,
  debounceMs: 20,
  leaseTtlMs: 10_000,
  pollMs: 200,
  flushTimeoutMs: 60_000,
  closeTimeoutMs: 5000,
  idlePollMs: 30_000,
  retryBaseMs: 1000,
  retryMaxMs: 60_000,
} as const;

/**
 * A Git lock file younger than this may belong to a command still running (a dead writer's orphaned
 * `git`, or a human in the archive); older, it is a leftover of a command that died.
 */
const STALE_LOCK_MS = 5000;

/**
 * Start the archive writer of `mb`: it creates the repository if missing, drains the jobs a crashed
 * process left behind, and from then on drains whenever woken. It never throws into the process: a
 * failure is logged as one line on stderr and retried with backoff, and the jobs stay queued.
 */
export function startArchiveWriter(mb: Mailbox, options: ArchiveWriterOptions = {}): ArchiveWriter {
  const writer = new ArchiveWriter(mb, options);
  writer.start();
  return writer;
}

/**
 * The archive writer of one mailbox in one process. Several may exist for one archive (several
 * processes, or several mailboxes in one process); the archive lease lets exactly one write at a time.
 */
export class ArchiveWriter implements ArchiveSink {
  /** This writer's lease holder id. */
  readonly holder = newHolderId();
  private readonly mb: Mailbox;
  private readonly repo: ArchiveRepo;
  private readonly opts: typeof DEFAULTS;
  private readonly log: (line: string) => void;
  private readonly onBatch: ((batch: DrainedBatch) => void) | undefined;
  private timer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private active: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** Set by `close()`: no new batch starts after this time. */
  private stopAt = Number.POSITIVE_INFINITY;
  private repoReady = false;
  private failures = 0;
  private retryAt = 0;
  private lastError: string | null = null;
  /** Set after a takeover from a dead holder or our own failure: Git may have left locks behind. */
  private needsCleanup = false;

  constructor(mb: Mailbox, options: ArchiveWriterOptions = {}) {
    this.mb = mb;
    this.repo = new ArchiveRepo(mb.paths.archive);
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.opts = { ...DEFAULTS, ...defined } as typeof DEFAULTS;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.onBatch = options.onBatch;
  }

  /** Begin: drain whatever is queued (jobs left by a crash included), and keep an eye on the queue. */
  start(): void {
    this.schedule(0);
    this.idleTimer = setInterval(() => {
      if (this.closed || this.active || this.timer || !this.mb.db.open) return;
      try {
        if (lastArchiveJobId(this.mb) > 0) this.schedule(0);
      } catch {
        // A closed or broken database: the next drain reports it.
      }
    }, this.opts.idlePollMs);
    this.idleTimer.unref();
  }

  /** Jobs were committed: drain soon. Wakes within the debounce window coalesce into one drain. */
  wake(): void {
    if (this.closed) return;
    this.schedule(Math.max(this.opts.debounceMs, this.retryAt - Date.now()));
  }

  /**
   * Resolve once every job queued before the call has been committed to Git, by this process or by the
   * lease holder. Rejects with BUSY after `flushTimeoutMs`, saying why the archive is behind.
   */
  async flush(): Promise<void> {
    if (!this.mb.db.open) return;
    // A writer that has not met its repository yet may be about to queue a rebuild of a new archive.
    if (!this.repoReady && !this.closed) await this.kick();
    const target = lastArchiveJobId(this.mb);
    if (target === 0) return;
    const calledAt = this.mb.now();
    const deadline = Date.now() + this.opts.flushTimeoutMs;
    for (;;) {
      if (!this.closed && Date.now() >= this.retryAt) await this.kick();
      if (!hasArchiveJobsUpTo(this.mb, target, calledAt)) return;
      const left = deadline - Date.now();
      if (left <= 0) throw this.behind();
      await sleep(Math.min(this.opts.pollMs, left));
    }
  }

  /**
   * Stop: drain what is queued (for at most `closeTimeoutMs`) if this process can take the lease, then
   * release it. Never throws; whatever is left stays queued for another process or the next start.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopAt = Date.now() + this.opts.closeTimeoutMs;
    if (this.timer) clearTimeout(this.timer);
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.timer = null;
    await this.active;
    if (!this.mb.db.open) return;
    if (this.failures === 0) await this.kick();
    try {
      releaseLease(this.mb, this.holder);
    } catch {
      // The database is going away; the lease expires on its own.
    }
  }

  private schedule(delayMs: number): void {
    const due = Date.now() + delayMs;
    if (this.timer && this.timerDue <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.kick();
    }, delayMs);
    // Pending jobs must not keep a process alive: they are drained at the next start.
    this.timer.unref();
  }

  /** Run the drain loop, or note that it must run again when it is already running. */
  private kick(): Promise<void> {
    if (this.active) {
      this.again = true;
      return this.active;
    }
    this.active = (async () => {
      do {
        this.again = false;
        await this.drainSafely();
      } while (this.again && !this.closed && this.failures === 0);
    })().finally(() => {
      this.active = null;
    });
    return this.active;
  }

  private async drainSafely(): Promise<void> {
    if (!this.mb.db.open) return;
    try {
      const outcome = await this.drain();
      this.failures = 0;
      this.retryAt = 0;
      this.lastError = null;
      // Waiting on another holder with jobs queued, or holding the lease while a dead holder's Git finishes.
      const ours = readLease(this.mb).holder === this.holder;
      if (outcome === "waiting" && !this.closed && (ours || countArchiveJobs(this.mb) > 0)) {
        this.schedule(this.opts.pollMs);
      }
    } catch (error) {
      if (!this.mb.db.open) return; // Closed under us: the jobs wait for the next start.
      this.failures++;
      const delay = Math.min(this.opts.retryBaseMs * 2 ** (this.failures - 1), this.opts.retryMaxMs);
      this.retryAt = Date.now() + delay;
      this.lastError = describe(error);
      this.needsCleanup = true;
      // Check the repository again next time: it may be what broke (deleted or damaged by hand).
      this.repoReady = false;
      let queued = -1;
      try {
        // Let another process try: the failure may be ours alone.
        releaseLease(this.mb, this.holder);
        queued = countArchiveJobs(this.mb);
      } catch {
        // Reported below; the lease expires on its own.
      }
      const retry = this.closed ? "will retry at the next start" : `retrying in ${Math.ceil(delay / 1000)}s`;
      this.log(
        `pigeonhole: archive writer failed: ${this.lastError} (${queued >= 0 ? `${queued} jobs kept queued, ` : ""}${retry})`,
      );
      if (!this.closed) this.schedule(delay);
    }
  }

  /**
   * Drain batches until the queue is empty ("idle") or another process holds the lease ("waiting").
   * Within a batch, Git stages each slice of files (in its own process) while this process renders and
   * writes the next, so the commit only waits for the last slice. Jobs are deleted only after their
   * commit, so a crash at any point loses nothing: the next drain rewrites the same files, and a job run
   * twice changes nothing.
   */
  private async drain(): Promise<"idle" | "waiting"> {
    // Renewed in the background too, so a slow Git command on a slow disk cannot outlive the lease.
    const heartbeat = setInterval(() => {
      try {
        acquireLease(this.mb, this.holder, this.opts.leaseTtlMs);
      } catch {
        // The next takeLease() reports a broken database.
      }
    }, this.opts.leaseTtlMs / 3);
    heartbeat.unref();
    try {
      for (;;) {
        if (Date.now() > this.stopAt) return "waiting";
        if (!this.takeLease()) return "waiting";
        if (this.needsCleanup) {
          // A command of the dead holder may still be finishing: wait for it rather than run next to it.
          if (this.repo.clearLeftovers(STALE_LOCK_MS).busy) return "waiting";
          this.needsCleanup = false;
        }
        if (!this.repoReady) {
          // The archive is new (first start, switched on later, or deleted): fill it from the database.
          if (await this.repo.ensure()) enqueueEverything(this.mb);
          this.repoReady = true;
        }
        const jobs = readArchiveJobs(this.mb, this.opts.batchSize);
        if (jobs.length === 0) {
          if (releaseLeaseIfIdle(this.mb, this.holder)) return "idle";
          continue;
        }
        const written = await this.writeBatch(jobs);
        if (!this.takeLease()) return "waiting";
        await this.commitBatch(jobs, written);
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Render a batch from the current rows, a slice at a time, writing and staging its files. */
  private async writeBatch(jobs: readonly ArchiveJob[]): Promise<WrittenBatch> {
    const paths = new Set<string>();
    const chunks: Omit<RenderedChunk, "files">[] = [];
    const staging = this.repo.startStaging();
    try {
      for (const { files, counts, label } of renderChunks(this.mb, batchTargets(jobs))) {
        await this.repo.writeFiles(files);
        staging.add(files.map((file) => file.path));
        for (const file of files) paths.add(file.path);
        chunks.push({ counts, label });
      }
      await staging.finish();
    } catch (error) {
      await staging.abort();
      throw error;
    }
    return { paths: [...paths], summary: commitSummary(chunks) };
  }

  /** Commit a written and staged batch, then delete its jobs. */
  private async commitBatch(jobs: readonly ArchiveJob[], written: WrittenBatch): Promise<void> {
    const first = (jobs[0] as ArchiveJob).id;
    const last = (jobs[jobs.length - 1] as ArchiveJob).id;
    const committed =
      written.paths.length > 0 &&
      (await this.repo.commitStaged(`${written.summary}\n\njobs ${first}..${last}`));
    deleteArchiveJobs(
      this.mb,
      jobs.map((job) => job.id),
    );
    this.onBatch?.({ holder: this.holder, jobs: jobs.length, files: written.paths.length, committed });
  }

  /** Take or renew the lease; false while another live process holds it. */
  private takeLease(): boolean {
    const current = readLease(this.mb);
    const othersLive =
      current.holder !== null &&
      current.holder !== this.holder &&
      current.expires_ms > Date.now() &&
      !holderIsDead(current.holder);
    // Checked without a write lock first: a waiting process polls without contending with senders.
    if (othersLive) return false;
    const grant = acquireLease(this.mb, this.holder, this.opts.leaseTtlMs);
    if (!grant.acquired) return false;
    if (grant.tookOver) this.needsCleanup = true;
    return true;
  }

  /** The BUSY error of a flush that timed out, saying why the archive is behind and what to do. */
  private behind(): PigeonholeError {
    const queued = countArchiveJobs(this.mb);
    const lease = readLease(this.mb);
    const seconds = Math.round(this.opts.flushTimeoutMs / 1000);
    let why: string;
    if (this.lastError !== null) {
      why = `The archive writer keeps failing (${this.lastError}); fix that and the queued jobs will be written, nothing is lost.`;
    } else if (lease.holder !== null && lease.holder !== this.holder) {
      why = `Another process (${lease.holder}) holds the archive lease and writes them; retry later.`;
    } else {
      why = "The writer is still catching up; retry later.";
    }
    return new PigeonholeError(
      "BUSY",
      `The Git archive is not caught up after ${seconds}s: ${queued} jobs are still queued. ${why}`,
      { pending_jobs: queued },
    );
  }
}

/** One line about a failure: no stack, no file contents; Git's first complaint line at most. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line =
    message
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "") ?? "unknown error";
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
