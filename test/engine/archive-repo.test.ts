import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { simpleGit } from "simple-git";
import { afterEach, describe, expect, it } from "vitest";
import { ArchiveRepo, gitEnvironment } from "../../engine/archive/repo.js";
import { tempHome } from "./helpers/archive-data.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function newRepo(): Promise<{ repo: ArchiveRepo; home: string }> {
  const t = tempHome();
  cleanups.push(t.cleanup);
  const repo = new ArchiveRepo(join(t.home, "archive"));
  await repo.ensure();
  return { repo, home: t.home };
}

describe("archive repository", () => {
  it("creates new files and replaces an existing one whole, such as one a crash left incomplete", async () => {
    const { repo } = await newRepo();
    writeFileSync(join(repo.dir, "half.md"), "---json\n{");
    await repo.writeFiles([
      { path: "half.md", content: "whole\n" },
      { path: "a/b/new.md", content: "new\n" },
    ]);
    expect(readFileSync(join(repo.dir, "half.md"), "utf8")).toBe("whole\n");
    expect(readFileSync(join(repo.dir, "a/b/new.md"), "utf8")).toBe("new\n");
  });

  it("never writes through a symlink planted at a file's path", async () => {
    const { repo, home } = await newRepo();
    const outside = join(home, "outside.txt");
    writeFileSync(outside, "untouched\n");
    symlinkSync(outside, join(repo.dir, "link.md"));
    symlinkSync(join(home, "dangling.txt"), join(repo.dir, "dangling.md"));
    await repo.writeFiles([
      { path: "link.md", content: "archive\n" },
      { path: "dangling.md", content: "archive\n" },
    ]);
    expect(readFileSync(outside, "utf8")).toBe("untouched\n");
    expect(lstatSync(join(repo.dir, "link.md")).isSymbolicLink()).toBe(false);
    expect(lstatSync(join(repo.dir, "dangling.md")).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(repo.dir, "dangling.md"), "utf8")).toBe("archive\n");
  });

  it("commits on the branch with a reflog entry, leaves the tree clean, and skips unchanged content", async () => {
    const { repo } = await newRepo();
    await repo.writeFiles([{ path: "m/1.md", content: "one\n" }]);
    expect(await repo.commitPaths(["m/1.md"], "archive: 1 message\n\njobs 1..1")).toBe(true);
    const git = simpleGit(repo.dir);
    expect(await git.raw(["log", "-1", "--format=%s%n%b%an <%ae>"])).toBe(
      "archive: 1 message\njobs 1..1\nPigeonhole Archive <archive@pigeonhole.invalid>\n",
    );
    expect(await git.raw(["reflog", "-1", "--format=%gs", "main"])).toBe("commit: archive: 1 message\n");
    expect(await git.raw(["status", "--porcelain"])).toBe("");
    await repo.writeFiles([{ path: "m/1.md", content: "one\n" }]);
    expect(await repo.commitPaths(["m/1.md"], "archive: again")).toBe(false);
    expect((await git.raw(["rev-list", "--count", "HEAD"])).trim()).toBe("2");
  });

  it("commits on top of a commit made by hand in the archive, never dropping it", async () => {
    const { repo } = await newRepo();
    const git = simpleGit(repo.dir);
    await repo.writeFiles([{ path: "m/1.md", content: "one\n" }]);
    // The parent is read at commit time, not remembered from an earlier batch.
    writeFileSync(join(repo.dir, "human.txt"), "by hand\n");
    await git.raw(["add", "human.txt"]);
    await git.raw(["-c", "user.name=h", "-c", "user.email=h@x", "commit", "-q", "-m", "by hand"]);
    expect(await repo.commitPaths(["m/1.md"], "archive: 1 message")).toBe(true);
    expect((await git.raw(["log", "--format=%s"])).split("\n").slice(0, 2)).toEqual([
      "archive: 1 message",
      "by hand",
    ]);
  });

  it("stages files while the batch is still being written, in as many slices as it comes", async () => {
    const { repo } = await newRepo();
    const staging = repo.startStaging();
    await repo.writeFiles([{ path: "m/1.md", content: "one\n" }]);
    staging.add(["m/1.md"]);
    await repo.writeFiles([{ path: "m/2 with space.md", content: "two\n" }]);
    staging.add(["m/2 with space.md"]);
    await staging.finish();
    expect(await repo.commitStaged("archive: 2 messages")).toBe(true);
    expect([...(await repo.trackedPaths())].sort()).toEqual(["README.md", "m/1.md", "m/2 with space.md"]);
  });

  it("reports why staging failed when another Git command holds the index", async () => {
    const { repo } = await newRepo();
    await repo.writeFiles([{ path: "m/1.md", content: "one\n" }]);
    writeFileSync(join(repo.dir, ".git", "index.lock"), "");
    const staging = repo.startStaging();
    staging.add(["m/1.md"]);
    await expect(staging.finish()).rejects.toThrow(/git update-index failed \(exit 128\).*index\.lock/);
  });

  it("abort stops a staging in progress and releases the index for the next batch", async () => {
    const { repo } = await newRepo();
    await repo.writeFiles([{ path: "m/1.md", content: "one\n" }]);
    const staging = repo.startStaging();
    staging.add(["m/1.md"]);
    await staging.abort();
    expect(existsSync(join(repo.dir, ".git", "index.lock"))).toBe(false);
    expect(await repo.commitPaths(["m/1.md"], "archive: 1 message")).toBe(true);
  });

  it("tunes glibc's allocator for git unless the user set it", () => {
    const saved = process.env.GLIBC_TUNABLES;
    try {
      delete process.env.GLIBC_TUNABLES;
      expect(gitEnvironment("/tmp").GLIBC_TUNABLES).toMatch(/^glibc\.malloc\.mmap_threshold=/);
      process.env.GLIBC_TUNABLES = "glibc.malloc.arena_max=2";
      expect(gitEnvironment("/tmp").GLIBC_TUNABLES).toBe("glibc.malloc.arena_max=2");
    } finally {
      if (saved === undefined) delete process.env.GLIBC_TUNABLES;
      else process.env.GLIBC_TUNABLES = saved;
    }
  });
});
