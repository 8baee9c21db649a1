import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { simpleGit } from "simple-git";
import { afterEach, describe, expect, it } from "vitest";
import { checkArchive } from "../../engine/archive/doctor.js";
import { ensureProject, type Mailbox, openMailbox, registerAgent } from "../../engine/index.js";
import { cleanEnv } from "../../fixtures/local-process.js";
import { tempHome } from "./helpers/archive-data.js";

/**
 * Several OS processes on one mailbox, each with its own archive writer, running the built engine
 * (`dist/`, built by `pretest`). Checks the promises of the outbox: nothing lost, nothing twice, the
 * database intact, and the archive complete once drained, even after a SIGKILL.
 */

const WORKER = fileURLToPath(new URL("./fixtures/send-worker.mjs", import.meta.url));

const children = new Set<ChildProcess>();
const open: Mailbox[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const mb of open.splice(0)) await mb.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Worker {
  child: ChildProcess;
  /** Ids printed so far: each one's send had returned. */
  ids: number[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Resolves once `n` ids were printed; rejects if the worker exits first. */
  printed: (n: number) => Promise<void>;
}

function startWorker(home: string, sender: string, count: number, tag: string): Worker {
  const child = spawn(process.execPath, [WORKER, home, "multi", sender, "Receiver", String(count), tag], {
    env: cleanEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const ids: number[] = [];
  let partial = "";
  let stderr = "";
  const waiters: { n: number; resolve: () => void }[] = [];
  child.stdout?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) ids.push(Number(line));
    for (const waiter of waiters.filter((w) => ids.length >= w.n)) waiter.resolve();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => {
      child.on("close", (code, signal) => {
        children.delete(child);
        resolve({ code, signal, stderr });
      });
    },
  );
  const printed = (n: number) =>
    new Promise<void>((resolve, reject) => {
      if (ids.length >= n) return resolve();
      waiters.push({ n, resolve });
      void exited.then(({ code, signal }) =>
        reject(new Error(`worker ${tag} exited (${code ?? signal}) after ${ids.length} sends: ${stderr}`)),
      );
    });
  return { child, ids, exited, printed };
}

/** A mailbox with project `multi`, `senders` sending agents and one `Receiver`; closed again. */
async function setUp(senders: string[]): Promise<string> {
  const t = tempHome();
  cleanups.push(t.cleanup);
  const mb = openMailbox({ home: t.home, archive: true });
  ensureProject(mb, { human_key: "multi" });
  for (const name of [...senders, "Receiver"]) {
    registerAgent(mb, { project_key: "multi", program: "test", model: "test", name });
  }
  await mb.close();
  return t.home;
}

function reopen(home: string): Mailbox {
  const mb = openMailbox({ home, archive: true });
  open.push(mb);
  return mb;
}

async function expectArchiveComplete(mb: Mailbox, messages: number): Promise<void> {
  await mb.flushArchive();
  const check = await checkArchive(mb);
  expect(check).toEqual(expect.objectContaining({ ok: true, pending_jobs: 0, missing: [] }));
  const git = simpleGit(mb.paths.archive);
  const tracked = (await git.raw(["ls-files", "projects/multi/messages"])).trim().split("\n");
  expect(tracked).toHaveLength(messages);
  // Git's own consistency check: no object or ref left broken by a writer dying mid-command.
  await git.raw(["fsck", "--no-dangling", "--no-progress"]);
  // And nothing a dead writer left behind: no lock, no half-written pack.
  expect(existsSync(join(mb.paths.archive, ".git", "index.lock"))).toBe(false);
  expect(
    readdirSync(join(mb.paths.archive, ".git", "objects", "pack")).filter((f) => f.startsWith("tmp_")),
  ).toEqual([]);
}

describe("several processes on one mailbox", () => {
  it("4 processes sending at once: every message stored exactly once, database intact, archive complete", async () => {
    const senders = ["Sender0", "Sender1", "Sender2", "Sender3"];
    const home = await setUp(senders);
    const perWorker = 150;
    const workers = senders.map((sender, w) => startWorker(home, sender, perWorker, `w${w}`));
    const exits = await Promise.all(workers.map((w) => w.exited));
    for (const exit of exits) {
      expect(exit.code).toBe(0);
      expect(exit.stderr).not.toContain("archive writer failed");
    }

    const printed = workers.flatMap((w) => w.ids);
    expect(printed).toHaveLength(4 * perWorker);
    expect(new Set(printed).size).toBe(printed.length);
    const mb = reopen(home);
    const rows = mb.db.prepare("SELECT id, subject FROM messages ORDER BY id").all() as {
      id: number;
      subject: string;
    }[];
    expect(rows.map((r) => r.id)).toEqual([...printed].sort((a, b) => a - b));
    const expected = senders.flatMap((_, w) => Array.from({ length: perWorker }, (_, i) => `w${w} ${i}`));
    expect(rows.map((r) => r.subject).sort()).toEqual(expected.sort());
    expect(mb.db.pragma("integrity_check", { simple: true })).toBe("ok");
    await expectArchiveComplete(mb, 4 * perWorker);
  });

  it("a writer killed with SIGKILL mid-stream loses no send that returned; the archive catches up", async () => {
    const home = await setUp(["Sender"]);
    const returned: number[] = [];
    let commitsBeforeKill = 0;
    for (let round = 0; round < 3; round++) {
      const worker = startWorker(home, "Sender", 1_000_000, `k${round}`);
      await worker.printed(300 + Math.floor(Math.random() * 300));
      worker.child.kill("SIGKILL");
      const exit = await worker.exited;
      expect(exit.signal).toBe("SIGKILL");
      returned.push(...worker.ids);
      commitsBeforeKill = Number(
        (
          await simpleGit(`${home}/archive`)
            .raw(["rev-list", "--count", "HEAD"])
            .catch(() => "0")
        ).trim(),
      );
    }
    expect(returned.length).toBeGreaterThanOrEqual(900);
    // The workers' writers ran during the stream (more than the first commit exists).
    expect(commitsBeforeKill).toBeGreaterThan(1);

    const mb = reopen(home);
    const found = mb.db
      .prepare("SELECT count(*) AS n FROM messages WHERE id IN (SELECT value FROM json_each(?))")
      .get(JSON.stringify(returned)) as { n: number };
    expect(found.n).toBe(returned.length);
    expect(mb.db.pragma("integrity_check", { simple: true })).toBe("ok");
    const total = (mb.db.prepare("SELECT count(*) AS n FROM messages").get() as { n: number }).n;
    // A send may have committed without getting to print its id before the kill: never the other way.
    expect(total - returned.length).toBeGreaterThanOrEqual(0);
    expect(total - returned.length).toBeLessThanOrEqual(3);
    await expectArchiveComplete(mb, total);
  });
});
