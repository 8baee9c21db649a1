import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { afterEach, describe, expect, it, vi } from "vitest";
import { checkArchive, rebuildArchive } from "../../engine/archive/doctor.js";
import {
  agentProfilePath,
  messagePath,
  parseMessageFile,
  projectPath,
  reservationPath,
} from "../../engine/archive/layout.js";
import { recentCommits } from "../../engine/archive/repo.js";
import { type DrainedBatch, startArchiveWriter } from "../../engine/archive/writer.js";
import { isPigeonholeError, type Mailbox, openMailbox, registerAgent } from "../../engine/index.js";
import {
  addAgent,
  commitSummaries,
  jobCount,
  mailboxWithoutWriter,
  markRead,
  reserve,
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

function home(): string {
  const t = tempHome();
  cleanups.push(t.cleanup);
  return t.home;
}

function track(mb: Mailbox): Mailbox {
  open.push(mb);
  return mb;
}

/** Create the archive repository (first commit) so later assertions count only the commits they cause. */
async function initArchive(mb: Mailbox): Promise<void> {
  await startArchiveWriter(mb).close();
}

function readArchived(mb: Mailbox, rel: string): string {
  return readFileSync(join(mb.paths.archive, rel), "utf8");
}

async function gitShow(mb: Mailbox, rel: string): Promise<string> {
  return simpleGit(mb.paths.archive).raw(["show", `HEAD:${rel}`]);
}

describe("archive writer", () => {
  it("creates the repository and commits every queued job's file", async () => {
    const sentAt = new Date("2026-05-06T07:08:09.000Z");
    const mb = track(mailboxWithoutWriter(home(), { now: () => sentAt }));
    const { project, a, b } = smallWorld(mb, "/work/demo");
    const id = await send(mb, {
      project,
      from: a,
      to: [b],
      subject: "Deploy plan",
      body: "Step 1.\n\nStep 2.",
    });
    const reservation = reserve(mb, project, a, "src/**");
    expect(jobCount(mb)).toBeGreaterThan(0);

    mb.archive = startArchiveWriter(mb);
    await mb.flushArchive();

    expect(jobCount(mb)).toBe(0);
    const git = simpleGit(mb.paths.archive);
    expect((await git.raw(["config", "user.name"])).trim()).toBe("Pigeonhole Archive");
    expect((await git.raw(["config", "user.email"])).trim()).toBe("archive@pigeonhole.invalid");
    const summaries = await commitSummaries(mb.paths.archive);
    expect(summaries.at(-1)).toBe("archive: initialize");
    expect(summaries.length).toBe(2);
    expect(readArchived(mb, "README.md")).toContain("projects/<slug>/messages/YYYY/MM/");

    expect(project).toBe("work-demo");
    const rel = messagePath(project, id, sentAt.toISOString(), "Deploy plan");
    expect(rel).toBe(`projects/work-demo/messages/2026/05/${id}-deploy-plan.md`);
    const parsed = parseMessageFile(await gitShow(mb, rel));
    expect(parsed?.front).toEqual(
      expect.objectContaining({ id, subject: "Deploy plan", from: a.name, to: [b.name], project }),
    );
    expect(parsed?.body).toBe("Step 1.\n\nStep 2.\n");
    expect(JSON.parse(await gitShow(mb, projectPath(project))).human_key).toBe("/work/demo");
    expect(JSON.parse(await gitShow(mb, reservationPath(project, reservation))).path_pattern).toBe("src/**");
    expect(JSON.parse(await gitShow(mb, agentProfilePath(project, a.name))).name).toBe(a.name);
    const log = await git.raw(["log", "-p"]);
    expect(log).not.toContain(a.registration_token);
    expect(log).not.toContain(b.registration_token);
    expect((await git.raw(["status", "--porcelain"])).trim()).toBe("");
  });

  it("rewrites a message file when its receipts change", async () => {
    const mb = track(mailboxWithoutWriter(home()));
    const { project, a, b } = smallWorld(mb);
    const id = await send(mb, { project, from: a, to: [b], subject: "Ack me" });
    mb.archive = startArchiveWriter(mb);
    await mb.flushArchive();
    const createdTs = (mb.db.prepare("SELECT created_ts FROM messages").get() as { created_ts: string })
      .created_ts;
    const rel = messagePath(project, id, createdTs, "Ack me");
    expect(receiptsOf(readArchived(mb, rel))[0]?.read_ts).toBeNull();

    markRead(mb, project, id, b, true); // the operation's write wakes the writer
    await mb.flushArchive();
    const receipts = receiptsOf(await gitShow(mb, rel));
    expect(receipts[0]?.read_ts).toEqual(expect.any(String));
    expect(receipts[0]?.ack_ts).toEqual(expect.any(String));
    expect((await commitSummaries(mb.paths.archive))[0]).toBe(`archive: receipts of message ${id}`);
  });

  it("drains a woken burst without an explicit flush", async () => {
    const mb = track(mailboxWithoutWriter(home()));
    await initArchive(mb);
    mb.archive = startArchiveWriter(mb, { debounceMs: 5 });
    const { project, a, b } = smallWorld(mb);
    await sendMany(mb, 50, (i) => ({ project, from: a, to: [b], subject: `Burst ${i}` }));
    await vi.waitFor(() => expect(jobCount(mb)).toBe(0), { timeout: 20_000, interval: 50 });
    expect((await checkArchive(mb)).ok).toBe(true);
  });

  it("batches many jobs into few commits", async () => {
    const mb = track(mailboxWithoutWriter(home()));
    await initArchive(mb);
    const { project, a, b } = smallWorld(mb);
    await sendMany(mb, 2500, (i) => ({ project, from: a, to: [b], subject: `Message ${i}` }));
    const queued = jobCount(mb);
    expect(queued).toBeGreaterThanOrEqual(2503);

    const batches: DrainedBatch[] = [];
    mb.archive = startArchiveWriter(mb, { batchSize: 1000, onBatch: (batch) => batches.push(batch) });
    await mb.flushArchive();

    expect(batches.map((batch) => batch.jobs)).toEqual([1000, 1000, queued - 2000]);
    expect(batches.every((batch) => batch.committed)).toBe(true);
    const summaries = await commitSummaries(mb.paths.archive);
    expect(summaries).toHaveLength(1 + 3);
    expect(summaries[2]).toBe("archive: 997 messages, 2 agents, 1 project");
    expect(summaries[0]).toBe(`archive: ${queued - 2000} messages`);
    const tracked = await simpleGit(mb.paths.archive).raw(["ls-files", "projects/demo/messages"]);
    expect(tracked.trim().split("\n")).toHaveLength(2500);
  });

  it("re-running jobs rewrites the same files and makes no commit", async () => {
    const mb = track(mailboxWithoutWriter(home()));
    const { project, a, b } = smallWorld(mb);
    await sendMany(mb, 20, (i) => ({ project, from: a, to: [b], subject: `Again ${i}`, payload: { i } }));
    reserve(mb, project, b, "docs/*.md");
    const batches: DrainedBatch[] = [];
    mb.archive = startArchiveWriter(mb, { onBatch: (batch) => batches.push(batch) });
    await mb.flushArchive();
    const before = await commitSummaries(mb.paths.archive);
    const head = (await simpleGit(mb.paths.archive).revparse(["HEAD"])).trim();

    batches.length = 0;
    expect(rebuildArchive(mb).queued).toBe(1 + 2 + 20 + 1);
    await mb.flushArchive();
    expect(batches).toEqual([expect.objectContaining({ jobs: 24, files: 24, committed: false })]);
    expect(await commitSummaries(mb.paths.archive)).toEqual(before);
    expect((await simpleGit(mb.paths.archive).revparse(["HEAD"])).trim()).toBe(head);
    expect((await simpleGit(mb.paths.archive).raw(["status", "--porcelain"])).trim()).toBe("");
  });

  it("stages only the files it wrote, never the whole tree", async () => {
    const mb = track(mailboxWithoutWriter(home()));
    await initArchive(mb);
    writeFileSync(join(mb.paths.archive, "stray.txt"), "not ours");
    mb.archive = startArchiveWriter(mb);
    smallWorld(mb);
    await mb.flushArchive();
    const tracked = await simpleGit(mb.paths.archive).raw(["ls-files"]);
    expect(tracked).not.toContain("stray.txt");
    expect(tracked).toContain("projects/demo/project.json");
  });

  it("with the archive off queues no job and creates no repository", async () => {
    const dir = home();
    const mb = track(openMailbox({ home: dir, archive: false }));
    const { project, a, b } = smallWorld(mb);
    await send(mb, { project, from: a, to: [b] });
    markRead(mb, project, 1, b, true);
    expect(mb.archive).toBeNull();
    expect(jobCount(mb)).toBe(0);
    await mb.flushArchive();
    expect(existsSync(join(dir, "archive"))).toBe(false);
    expect(await checkArchive(mb)).toEqual(expect.objectContaining({ enabled: false, ok: true }));
    expect(await recentCommits(mb, projectPath(project), 5)).toEqual([]);
    let error: unknown;
    try {
      rebuildArchive(mb);
    } catch (e) {
      error = e;
    }
    expect(isPigeonholeError(error) && error.code).toBe("INVALID_ARGUMENT");
  });

  it("fills an archive switched on after mail was sent", async () => {
    const dir = home();
    const off = openMailbox({ home: dir, archive: false });
    const { project, a, b } = smallWorld(off);
    await sendMany(off, 30, (i) => ({ project, from: a, to: [b], subject: `Early ${i}` }));
    await off.close();

    const on = track(openMailbox({ home: dir, archive: true }));
    await on.flushArchive();
    const check = await checkArchive(on);
    expect(check).toEqual(expect.objectContaining({ ok: true, pending_jobs: 0, missing: [] }));
    const tracked = await simpleGit(on.paths.archive).raw(["ls-files", "projects/demo/messages"]);
    expect(tracked.trim().split("\n")).toHaveLength(30);
  });

  it("after a crash, drains the jobs left behind at the next start", async () => {
    const dir = home();
    const first = mailboxWithoutWriter(dir);
    await initArchive(first);
    const { project, a, b } = smallWorld(first);
    const ids = await sendMany(first, 25, (i) => ({
      project,
      from: a,
      to: [b],
      subject: `Before crash ${i}`,
    }));
    expect(jobCount(first)).toBe(28);
    first.db.close(); // the process dies: no drain, no lease release

    const reopened = track(openMailbox({ home: dir }));
    await vi.waitFor(() => expect(jobCount(reopened)).toBe(0), { timeout: 20_000, interval: 50 });
    const check = await checkArchive(reopened);
    expect(check.ok).toBe(true);
    const tracked = await simpleGit(reopened.paths.archive).raw(["ls-files"]);
    for (const id of ids) expect(tracked).toContain(`/${id}-before-crash-`);
  });

  it("takes over from a holder that died inside a git command, removing its stale lock", async () => {
    const dir = home();
    const first = mailboxWithoutWriter(dir);
    await initArchive(first);
    const { project, a, b } = smallWorld(first);
    await send(first, { project, from: a, to: [b], subject: "Orphan" });
    const deadPid = await exitedPid();
    first.db
      .prepare("UPDATE archive_lease SET holder = ?, expires_ms = ? WHERE id = 1")
      .run(`pigeonhole:${hostname()}:${deadPid}:abcdef`, Date.now() + 600_000);
    // Its git died too (the lock is older than any running command) and left a half-written pack.
    const lock = join(first.paths.archive, ".git", "index.lock");
    const tmpPack = join(first.paths.archive, ".git", "objects", "pack", "tmp_pack_abc123");
    for (const file of [lock, tmpPack]) {
      writeFileSync(file, "");
      utimesSync(file, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    }
    first.db.close();

    const reopened = track(openMailbox({ home: dir }));
    await reopened.flushArchive();
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(tmpPack)).toBe(false);
    expect((await checkArchive(reopened)).ok).toBe(true);
  });

  it("waits for the orphaned git command of a dead writer to finish before running git itself", async () => {
    const dir = home();
    const first = mailboxWithoutWriter(dir);
    await initArchive(first);
    const { project, a, b } = smallWorld(first);
    await send(first, { project, from: a, to: [b], subject: "Behind an orphan" });
    first.db
      .prepare("UPDATE archive_lease SET holder = ?, expires_ms = ? WHERE id = 1")
      .run(`pigeonhole:${hostname()}:${await exitedPid()}:abcdef`, Date.now() + 600_000);
    const lock = join(first.paths.archive, ".git", "index.lock");
    writeFileSync(lock, ""); // a git command that is still running
    first.db.close();

    const reopened = track(mailboxWithoutWriter(dir));
    const batches: DrainedBatch[] = [];
    reopened.archive = startArchiveWriter(reopened, { pollMs: 20, onBatch: (batch) => batches.push(batch) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(batches).toEqual([]);
    expect(existsSync(lock)).toBe(true);
    expect(jobCount(reopened)).toBeGreaterThan(0);

    rmSync(lock); // the orphan finishes
    await reopened.flushArchive();
    expect(batches.length).toBeGreaterThan(0);
    expect((await checkArchive(reopened)).ok).toBe(true);
  });

  it("survives a broken archive path: logs one line, keeps the jobs, recovers", async () => {
    const dir = home();
    const archiveDir = join(dir, "archive-is-a-file");
    writeFileSync(archiveDir, "in the way");
    const mb = track(mailboxWithoutWriter(dir, { archiveDir }));
    const { project, a, b } = smallWorld(mb);
    await send(mb, { project, from: a, to: [b], subject: "Private subject", body: "private body text" });
    const lines: string[] = [];
    const writer = startArchiveWriter(mb, {
      retryBaseMs: 50,
      retryMaxMs: 100,
      flushTimeoutMs: 400,
      pollMs: 20,
      log: (line) => lines.push(line),
    });
    mb.archive = writer;

    let error: unknown;
    try {
      await writer.flush();
    } catch (e) {
      error = e;
    }
    expect(isPigeonholeError(error) && error.code).toBe("BUSY");
    expect((error as Error).message).toMatch(/not a directory/);
    expect(jobCount(mb)).toBe(4);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain("\n");
      expect(line).toMatch(/^pigeonhole: archive writer failed: .*not a directory.*jobs kept queued/);
      expect(line).not.toContain("private body text");
      expect(line).not.toContain(a.registration_token);
    }

    rmSync(archiveDir);
    await vi.waitFor(() => writer.flush(), { timeout: 10_000, interval: 100 });
    expect(jobCount(mb)).toBe(0);
    expect((await checkArchive(mb)).ok).toBe(true);
  });

  it("rebuilds an archive deleted under it, never writing to an enclosing repository", async () => {
    const dir = home();
    // The mailbox home is itself a Git repository (think of a dotfiles repo in ~).
    await simpleGit(dir).raw(["init", "-q"]);
    const mb = track(mailboxWithoutWriter(dir));
    const lines: string[] = [];
    mb.archive = startArchiveWriter(mb, { retryBaseMs: 20, retryMaxMs: 50, log: (l) => lines.push(l) });
    const { project, a, b } = smallWorld(mb);
    await mb.flushArchive();
    rmSync(mb.paths.archive, { recursive: true, force: true });
    mkdirSync(mb.paths.archive);
    const id = await send(mb, { project, from: a, to: [b], subject: "After damage" });
    await vi.waitFor(() => mb.flushArchive(), { timeout: 10_000, interval: 100 });

    expect(lines.length).toBeGreaterThan(0);
    const check = await checkArchive(mb);
    expect(check.ok).toBe(true);
    const tracked = await simpleGit(mb.paths.archive).raw(["ls-files"]);
    expect(tracked).toContain(`/${id}-after-damage.md`);
    expect(tracked).toContain("projects/demo/project.json");
    expect((await simpleGit(dir).raw(["ls-files"])).trim()).toBe("");
  });

  it("checkArchive finds missing files and rebuildArchive restores them", async () => {
    const mb = track(mailboxWithoutWriter(home()));
    const { project, a, b } = smallWorld(mb);
    const ids = await sendMany(mb, 5, (i) => ({ project, from: a, to: [b], subject: `Check ${i}` }));
    const reservation = reserve(mb, project, a, "x/**");
    mb.archive = startArchiveWriter(mb);
    await mb.flushArchive();
    expect(await checkArchive(mb)).toEqual({
      enabled: true,
      pending_jobs: 0,
      missing: [],
      missing_agents: [],
      missing_projects: [],
      missing_reservations: [],
      ok: true,
    });

    const git = simpleGit(mb.paths.archive);
    const victim = (await git.raw(["ls-files", `*/${ids[2]}-check-2.md`])).trim();
    await git.raw([
      "rm",
      "-q",
      victim,
      reservationPath(project, reservation),
      agentProfilePath(project, a.name),
      projectPath(project),
    ]);
    await git.raw(["commit", "-q", "-m", "damage"]);
    const damaged = await checkArchive(mb);
    expect(damaged).toEqual({
      enabled: true,
      pending_jobs: 0,
      missing: [ids[2]],
      missing_agents: [a.id],
      missing_projects: [1],
      missing_reservations: [reservation],
      ok: false,
    });

    rebuildArchive(mb);
    await mb.flushArchive();
    expect((await checkArchive(mb)).ok).toBe(true);
  });

  it("recentCommits lists the commits that touched an agent profile, newest first", async () => {
    const mb = track(mailboxWithoutWriter(home()));
    const { project } = smallWorld(mb);
    mb.archive = startArchiveWriter(mb);
    await mb.flushArchive();
    addAgent(mb, project, "Watcher");
    await mb.flushArchive();
    registerAgent(mb, { project_key: project, program: "codex", model: "gpt-5", name: "Watcher" });
    await mb.flushArchive();

    const commits = await recentCommits(mb, agentProfilePath(project, "Watcher"), 5);
    expect(commits.map((c) => c.summary)).toEqual(["archive: agent Watcher", "archive: agent Watcher"]);
    for (const commit of commits) {
      expect(commit.hexsha).toMatch(/^[0-9a-f]{7,12}$/);
      expect(Date.parse(commit.authored_ts)).not.toBeNaN();
      expect(commit.authored_ts).toMatch(/Z$/);
    }
    expect(JSON.parse(await gitShow(mb, agentProfilePath(project, "Watcher"))).program).toBe("codex");
    expect(await recentCommits(mb, agentProfilePath(project, "Watcher"), 1)).toHaveLength(1);
    expect(await recentCommits(mb, agentProfilePath(project, "Nobody"), 5)).toEqual([]);
  });
});

function receiptsOf(text: string): { read_ts: unknown; ack_ts: unknown }[] {
  const receipts = parseMessageFile(text)?.front.receipts;
  expect(Array.isArray(receipts)).toBe(true);
  return receipts as { read_ts: unknown; ack_ts: unknown }[];
}

/** The pid of a process that has already exited. */
async function exitedPid(): Promise<number> {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid as number;
}
