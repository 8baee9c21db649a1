import { parentPort } from "node:worker_threads";
import Database from "better-sqlite3";
import { VIEWER_AGGREGATES, VIEWER_TABLES } from "./viewer-schema.js";
import type { ViewerReply, ViewerRequest } from "./viewer-threads.js";

/**
 * Worker thread entry (viewer-threads.ts): computes the viewer tables from the work copy into a scratch
 * database. The work copy is attached and only read, inside one read transaction that is open before
 * "reading" is posted, so the main thread's writes meanwhile cannot be seen half-done.
 */

const port = parentPort;
if (port === null) throw new Error("viewer-worker.js runs as a worker thread (viewer-threads.ts starts it).");
port.once("message", ({ workCopy, scratch }: ViewerRequest) => {
  const post = (reply: ViewerReply) => port.postMessage(reply);
  try {
    const db = new Database(scratch);
    try {
      db.pragma("journal_mode = OFF");
      db.pragma("synchronous = OFF");
      db.pragma("temp_store = MEMORY");
      db.pragma("cache_size = -65536");
      db.prepare("ATTACH ? AS work").run(workCopy);
      db.exec("BEGIN");
      db.prepare("SELECT COUNT(*) FROM work.sqlite_schema").get();
      post({ state: "reading" });
      // Unqualified names resolve to this scratch database first (the viewer tables), then to the work
      // copy (the mailbox tables), so the aggregates' SQL is the one the main thread would run.
      db.exec(VIEWER_TABLES);
      db.exec(VIEWER_AGGREGATES);
      db.exec("COMMIT");
    } finally {
      db.close();
    }
    post({ state: "done" });
  } catch (error) {
    post({ state: "failed", error: error instanceof Error ? error.message : String(error) });
  }
});
