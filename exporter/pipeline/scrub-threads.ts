import { Worker } from "node:worker_threads";
import { PigeonholeError } from "../../engine/errors.js";
import { secretlintRedact } from "./secretlint.js";
import { type RedactionCounts, redactSecrets } from "./secrets.js";
import { usableWorkerScript } from "./worker-scripts.js";

/**
 * The scrubber's second thread. Matching secrets (our patterns, then secretlint) is most of the scrub
 * stage's CPU and needs no database, so a worker thread matches some batches while the main thread
 * reads, matches the others and writes back (SQLite stays single-threaded). A batch's result depends
 * only on its texts, so which thread matched it changes nothing in the output.
 */

/** Both passes of the scrubber over `texts` (same length and order), redactions counted in `counts`. */
export function redactTexts(texts: readonly string[], counts: RedactionCounts): Promise<string[]> {
  return secretlintRedact(
    texts.map((text) => redactSecrets(text, counts)),
    counts,
  );
}

/**
 * The worker script to scrub with by default: null (scrub on the main thread only) on a single core or
 * when the script is not built (worker-scripts.ts).
 */
export function defaultScrubWorker(): URL | null {
  return usableWorkerScript(new URL("./scrub-worker.js", import.meta.url));
}

/** A started default scrub worker, or null (see `defaultScrubWorker`). The caller closes it. */
export function startScrubWorker(): ScrubWorker | null {
  const url = defaultScrubWorker();
  return url === null ? null : new ScrubWorker(url);
}

/** A batch posted to the worker. */
export interface ScrubRequest {
  id: number;
  texts: readonly string[];
}

/** The worker's answer: the rewritten texts and the batch's redaction counts, or why it failed. */
export type ScrubReply =
  | { id: number; texts: string[]; counts: Record<string, number> }
  | { id: number; error: string };

interface Pending {
  counts: RedactionCounts;
  resolve: (texts: string[]) => void;
  reject: (error: Error) => void;
}

/**
 * One worker thread running `redactTexts`. Guarantees: every `run` settles; once the worker fails (an
 * exception, an exit) every pending and later `run` rejects with INTERNAL; after `close` resolves the
 * thread is gone. The thread keeps the process alive only while a batch is pending.
 */
export class ScrubWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private failure: Error | null = null;

  private closed = false;

  /** Start the thread; it loads its modules while the export does other work. */
  constructor(url: URL) {
    this.worker = new Worker(url);
    this.worker.unref();
    this.worker.on("message", (reply: ScrubReply) => this.settle(reply));
    this.worker.on("error", (error) => this.fail(`failed: ${error.message}`));
    this.worker.on("exit", (code) => this.fail(`exited (code ${code})`));
  }

  /** Batches posted and not yet answered. */
  get busy(): number {
    return this.pending.size;
  }

  /** `redactTexts(texts, counts)` on the worker: the batch's counts are added to `counts` on arrival. */
  run(texts: readonly string[], counts: RedactionCounts): Promise<string[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    return new Promise<string[]>((resolve, reject) => {
      this.pending.set(id, { counts, resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ id, texts } satisfies ScrubRequest);
    });
  }

  /** Stop the thread (once; later calls do nothing); pending batches reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail("was stopped");
    await this.worker.terminate();
  }

  private settle(reply: ScrubReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if ("error" in reply) {
      this.fail(`failed: ${reply.error}`);
      pending.reject(this.failure as Error);
      return;
    }
    for (const [rule, n] of Object.entries(reply.counts)) pending.counts.add(rule, n);
    pending.resolve(reply.texts);
  }

  private fail(reason: string): void {
    this.failure ??= new PigeonholeError(
      "INTERNAL",
      `The export's scrub worker thread ${reason}; nothing was published. Retry the export; if it fails again, report it.`,
    );
    for (const { reject } of this.pending.values()) reject(this.failure);
    this.pending.clear();
    this.worker.unref();
  }
}
