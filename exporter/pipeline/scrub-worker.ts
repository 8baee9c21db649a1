import { parentPort } from "node:worker_threads";
import { redactTexts, type ScrubReply, type ScrubRequest } from "./scrub-threads.js";
import { RedactionCounts } from "./secrets.js";

/** Worker thread entry (scrub-threads.ts): answers each batch with its rewritten texts and counts. */

const port = parentPort;
if (port === null) throw new Error("scrub-worker.js runs as a worker thread (scrub-threads.ts starts it).");
port.on("message", async ({ id, texts }: ScrubRequest) => {
  const counts = new RedactionCounts();
  let reply: ScrubReply;
  try {
    reply = { id, texts: await redactTexts(texts, counts), counts: counts.toJSON() };
  } catch (error) {
    reply = { id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
