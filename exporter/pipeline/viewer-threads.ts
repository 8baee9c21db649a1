import { Worker } from "node:worker_threads";
import { PigeonholeError } from "../../engine/errors.js";
import { usableWorkerScript } from "./worker-scripts.js";

/**
 * The viewer aggregates' thread. They read no body, so a worker computes them from the work copy into a
 * scratch database while the main thread builds the FTS4 index and the indexes (viewer-schema.ts).
 */

/**
 * The worker script to compute the aggregates with by default: null (main thread only) on a single core
 * or when the script is not built (worker-scripts.ts).
 */
export function defaultViewerWorker(): URL | null {
  return usableWorkerScript(new URL("./viewer-worker.js", import.meta.url));
}

/** What the worker is asked: the work copy to read and the scratch database to create. */
export interface ViewerRequest {
  workCopy: string;
  scratch: string;
}

/** "reading" once its read transaction on the work copy is open; then "done" (or "failed" at any time). */
export type ViewerReply = { state: "reading" } | { state: "done" } | { state: "failed"; error: string };

/** A started default viewer worker, or null (see `defaultViewerWorker`). The caller closes it. */
export function startViewerWorker(): ViewerWorker | null {
  const url = defaultViewerWorker();
  return url === null ? null : new ViewerWorker(url);
}

/**
 * One worker computing the viewer tables of a work copy into a scratch database, once asked (`start`).
 * Guarantees: `reading` resolves once the worker holds its read transaction (a write to the work copy
 * committed after that is not seen by it); `done` resolves once the scratch database is complete and
 * closed; both reject with INTERNAL if the worker fails or is stopped first; after `close` resolves
 * the thread is gone.
 */
export class ViewerWorker {
  readonly reading: Promise<void>;
  readonly done: Promise<void>;
  private readonly worker: Worker;
  private settle: { reading?: () => void; done?: () => void; fail?: (error: Error) => void } = {};
  private closed = false;

  /** Start the thread; it loads its modules while the export does other work. */
  constructor(url: URL) {
    const reading = settable();
    const done = settable();
    this.reading = reading.promise;
    this.done = done.promise;
    // Rejecting a settled promise does nothing: a failure after "reading" only rejects `done`.
    this.settle = {
      reading: reading.resolve,
      done: done.resolve,
      fail: (error) => {
        reading.reject(error);
        done.reject(error);
      },
    };
    // Awaited by the caller in turn; a failure before then must not count as unhandled.
    this.reading.catch(() => undefined);
    this.done.catch(() => undefined);
    this.worker = new Worker(url);
    this.worker.on("message", (reply: ViewerReply) => {
      if (reply.state === "reading") this.settle.reading?.();
      else if (reply.state === "done") this.settle.done?.();
      else this.fail(`failed: ${reply.error}`);
    });
    this.worker.on("error", (error) => this.fail(`failed: ${error.message}`));
    this.worker.on("exit", (code) => this.fail(`exited (code ${code})`));
  }

  /** Ask for the viewer tables of `request.workCopy` (once). */
  start(request: ViewerRequest): void {
    this.worker.postMessage(request);
  }

  /** Stop the thread (once; later calls do nothing). Changes nothing once `done` resolved. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail("was stopped");
    await this.worker.terminate();
  }

  private fail(reason: string): void {
    this.settle.fail?.(
      new PigeonholeError(
        "INTERNAL",
        `The export's viewer-tables worker thread ${reason}; nothing was published. Retry the export; if it fails again, report it.`,
      ),
    );
    this.settle.fail = undefined;
  }
}

/** A promise with its settle functions (`Promise.withResolvers` needs Node 22). */
function settable(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
