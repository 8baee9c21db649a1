import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureProject, openMailbox, registerAgent, sendMessage } from "../../engine/index.js";
import { exportBundle } from "../../exporter/export.js";
import { inventoryAttachments } from "../../exporter/pipeline/attachments.js";
import { applyScope } from "../../exporter/pipeline/scope.js";
import { applyScrub } from "../../exporter/pipeline/scrub.js";
import { ScrubWorker } from "../../exporter/pipeline/scrub-threads.js";
import { openWorkCopy, takeSnapshot } from "../../exporter/pipeline/snapshot.js";
import { SECRETS_CORPUS } from "../../fixtures/secrets-corpus.js";
import { seedMailbox } from "../../fixtures/seed.js";
import { databaseBytes, openBetterSqlite, tempDir } from "./helpers.js";

/**
 * The export's worker threads (scrub-threads.ts, viewer-threads.ts): the built workers (dist/, so run
 * `npm run build` first) must give the very bytes of a main-thread-only export, and a failing worker
 * must fail the export with nothing published and no thread left running.
 */

const BUILT_WORKER = new URL("../../dist/exporter/pipeline/scrub-worker.js", import.meta.url);
const BUILT_VIEWER_WORKER = new URL("../../dist/exporter/pipeline/viewer-worker.js", import.meta.url);
const FAILING_WORKER = new URL("./fixtures/failing-worker.mjs", import.meta.url);

/** The workers `exportBundle` uses (from the sources alone it would start none). */
const workers: { scrub: URL | null; viewer: URL | null } = { scrub: null, viewer: null };
vi.mock("../../exporter/pipeline/scrub-threads.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../exporter/pipeline/scrub-threads.js")>();
  return {
    ...original,
    startScrubWorker: () => (workers.scrub === null ? null : new original.ScrubWorker(workers.scrub)),
  };
});
vi.mock("../../exporter/pipeline/viewer-threads.js", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../exporter/pipeline/viewer-threads.js")>();
  return {
    ...original,
    startViewerWorker: () => (workers.viewer === null ? null : new original.ViewerWorker(workers.viewer)),
  };
});

let home: string;

/** A seeded mailbox of several scrub batches, with every secret of the corpus mailed once. */
async function plantedMailbox(): Promise<string> {
  const dir = join(tempDir("ph-scrub-threads-", true), "home");
  await seedMailbox({ home: dir, messages: 3_000, seed: "scrub-threads" });
  const mb = openMailbox({ home: dir, archive: false });
  try {
    const key = ensureProject(mb, { human_key: "/work/vault" }).slug;
    registerAgent(mb, { project_key: key, program: "p", model: "m", name: "Vault" });
    registerAgent(mb, { project_key: key, program: "p", model: "m", name: "Keeper" });
    for (const s of SECRETS_CORPUS) {
      await sendMessage(mb, {
        project_key: key,
        sender_name: "Keeper",
        to: ["Vault"],
        subject: `Leaked ${s.kind}`,
        body_md: `Found this in the logs:\n\n${s.text}\n\nPlease rotate.`,
        payload: { credential: s.text },
      });
    }
  } finally {
    await mb.close();
  }
  return dir;
}

/** Every row of every table of a database, as sorted JSON. */
function dump(path: string): Record<string, unknown[]> {
  const db = openWorkCopy(path);
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .pluck()
      .all() as string[];
    return Object.fromEntries(
      tables.map((t) => [
        t,
        (db.prepare(`SELECT * FROM "${t}"`).raw().all() as unknown[][])
          .map((row) => JSON.stringify(row))
          .sort(),
      ]),
    );
  } finally {
    db.close();
  }
}

async function scrubCopy(url: URL | null) {
  const workDir = tempDir();
  const snapshot = await takeSnapshot({ database: join(home, "mailbox.sqlite3"), workDir });
  const db = openWorkCopy(snapshot.path);
  try {
    applyScope({ db, projects: [] });
    inventoryAttachments(db, home, 10 << 20);
    const worker = url === null ? null : new ScrubWorker(url);
    const report = await applyScrub({ db, preset: "standard", workDir, worker }).finally(() =>
      worker?.close(),
    );
    return { report, path: snapshot.path };
  } finally {
    db.close();
  }
}

describe("export worker threads", () => {
  beforeAll(async () => {
    expect(existsSync(BUILT_WORKER), "run `npm run build` first").toBe(true);
    expect(existsSync(BUILT_VIEWER_WORKER), "run `npm run build` first").toBe(true);
    home = await plantedMailbox();
  }, 60_000);

  afterEach(() => {
    workers.scrub = null;
    workers.viewer = null;
    vi.restoreAllMocks();
  });

  it("scrubs exactly as the main thread alone does", async () => {
    const alone = await scrubCopy(null);
    const posted = vi.spyOn(Worker.prototype, "postMessage");
    const threaded = await scrubCopy(BUILT_WORKER);
    // Several batches went to the worker, and the main thread kept some (text-fields.ts reads ahead).
    expect(posted.mock.calls.length).toBeGreaterThan(1);
    expect(alone.report.redactions).not.toEqual({});
    expect(threaded.report).toEqual(alone.report);
    expect(dump(threaded.path)).toEqual(dump(alone.path));
  });

  it("exports the same bundle database with and without the workers", async () => {
    const now = () => new Date("2026-01-02T03:04:05Z");
    const root = tempDir();
    const alone = await exportBundle({ home, out: join(root, "alone"), viewerDir: null, now });
    workers.scrub = BUILT_WORKER;
    workers.viewer = BUILT_VIEWER_WORKER;
    const terminate = vi.spyOn(Worker.prototype, "terminate");
    const threaded = await exportBundle({ home, out: join(root, "threaded"), viewerDir: null, now });
    expect(terminate).toHaveBeenCalledTimes(2);
    expect(threaded.redactions).toEqual(alone.redactions);
    expect(threaded.stages).toEqual(alone.stages);
    expect(threaded.counts).toEqual(alone.counts);
    const bytes = await databaseBytes(join(root, "threaded"));
    expect(bytes.equals(await databaseBytes(join(root, "alone")))).toBe(true);
    const db = openBetterSqlite(bytes);
    try {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(db.prepare("SELECT COUNT(*) FROM viewer_threads").pluck().get()).toBeGreaterThan(100);
    } finally {
      db.close();
    }
  });

  for (const stage of ["scrub", "viewer"] as const) {
    it(`a failing ${stage} worker fails the export: nothing published, the thread stopped`, async () => {
      const terminate = vi.spyOn(Worker.prototype, "terminate");
      workers[stage] = FAILING_WORKER;
      const root = tempDir();
      const out = join(root, "bundle");
      await expect(exportBundle({ home, out, viewerDir: null })).rejects.toMatchObject({
        code: "INTERNAL",
        message: expect.stringMatching(/worker thread failed: planted failure/),
      });
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dirname(out))).toEqual([]);
      expect(terminate).toHaveBeenCalledTimes(1);
    });
  }
});
