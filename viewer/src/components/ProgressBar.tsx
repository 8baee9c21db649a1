import { byteSize } from "../lib/format.js";
import type { Progress } from "../lib/loader.js";

/** What the loader is doing, with a bar when the amount of work is known. */
export function ProgressBar({ progress }: { progress: Progress }) {
  const { step, done, total } = progress;
  const known = total !== undefined && total > 0 && done !== undefined;
  return (
    <div class="progress" aria-live="polite">
      <p>
        {step}
        {known ? ` — ${byteSize(done)} of ${byteSize(total)}` : "…"}
      </p>
      {known ? <progress max={total} value={done} /> : <progress />}
    </div>
  );
}
