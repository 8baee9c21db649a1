import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";

/**
 * The export pipeline's worker threads run scripts built next to their modules in dist/ (tsc). From
 * the TypeScript sources (the test runner) no such script exists, and on a single core a second thread
 * would only take turns with the first: then the work stays on the main thread.
 */

/** `url` when it exists and the machine has at least two cores, else null (work on the main thread). */
export function usableWorkerScript(url: URL): URL | null {
  return availableParallelism() >= 2 && existsSync(url) ? url : null;
}
