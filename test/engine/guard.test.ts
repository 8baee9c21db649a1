import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import * as engine from "../../engine/index.js";

// The installed hook runs the built entry: `npm run build` (or `npm test`, whose pretest builds) first.
const ENTRY = engine.guardHookEntry();

const saved = { global: process.env.GIT_CONFIG_GLOBAL, nosystem: process.env.GIT_CONFIG_NOSYSTEM };
beforeAll(() => {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npm run build before this test`);
  // Install and the commits must read the same Git config, isolated from the machine's.
  process.env.GIT_CONFIG_GLOBAL = "/dev/null";
  process.env.GIT_CONFIG_NOSYSTEM = "1";
});
afterAll(() => {
  if (saved.global === undefined) delete process.env.GIT_CONFIG_GLOBAL;
  else process.env.GIT_CONFIG_GLOBAL = saved.global;
  if (saved.nosystem === undefined) delete process.env.GIT_CONFIG_NOSYSTEM;
  else process.env.GIT_CONFIG_NOSYSTEM = saved.nosystem;
});

const dirs: string[] = [];
const mailboxes: engine.Mailbox[] = [];
afterEach(async () => {
  for (const mb of mailboxes.splice(0)) await mb.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function temp(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

function git(repo: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd: repo, encoding: "utf8" });
}

/** A real repository with one commit, a mailbox, project, agents Holder and Other, and the guard installed. */
function setup(options: { install?: boolean; existingHook?: string } = {}) {
  const home = temp("ph-guard-home-");
  const repo = temp("ph-guard-repo-");
  git(repo, "init", "-q", "-b", "main");
  git(repo, "config", "user.name", "Test");
  git(repo, "config", "user.email", "test@example.com");
  writeFileSync(join(repo, "README.md"), "hi\n");
  git(repo, "add", "README.md");
  git(repo, "commit", "-q", "-m", "init");
  const mb = engine.openMailbox({ home, archive: false });
  mailboxes.push(mb);
  const project = engine.ensureProject(mb, { human_key: repo }).slug;
  for (const name of ["Holder", "Other"]) {
    engine.registerAgent(mb, { project_key: project, program: "test", model: "m", name });
  }
  const hooks = join(repo, ".git", "hooks");
  if (options.existingHook !== undefined) {
    mkdirSync(hooks, { recursive: true });
    writeFileSync(join(hooks, "pre-commit"), options.existingHook, { mode: 0o755 });
  }
  if (options.install ?? true)
    engine.installPrecommitGuard(mb, { project_key: project, code_repo_path: repo });
  const stage = (path: string, content = "x\n") => {
    mkdirSync(join(repo, path, ".."), { recursive: true });
    writeFileSync(join(repo, path), content);
    git(repo, "add", "--", path);
  };
  const commit = (env: Record<string, string> = {}) => {
    const clean = { ...process.env };
    for (const key of ["PIGEONHOLE_AGENT", "AGENT_NAME", "PIGEONHOLE_GUARD_BYPASS"]) delete clean[key];
    const r = spawnSync("git", ["commit", "-q", "-m", "change"], {
      cwd: repo,
      env: { ...clean, ...env },
      encoding: "utf8",
    });
    return { status: r.status, stderr: r.stderr };
  };
  return { home, repo, mb, project, hooks, stage, commit };
}

describe("pre-commit guard with real commits", () => {
  test("refuses another agent's commit naming holder, pattern and expiry; lets the holder commit", () => {
    const { mb, project, stage, commit, repo } = setup();
    const granted = engine.fileReservationPaths(mb, {
      project_key: project,
      agent_name: "Holder",
      paths: ["src/**"],
    }).granted[0]!;
    stage("src/a.ts");
    const refused = commit({ PIGEONHOLE_AGENT: "Other" });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain("commit refused");
    expect(refused.stderr).toContain(
      `src/a.ts: reserved by Holder (pattern src/**, expires ${granted.expires_ts}, reservation #${granted.id})`,
    );
    expect(git(repo, "log", "--oneline").trim().split("\n")).toHaveLength(1);

    const allowed = commit({ PIGEONHOLE_AGENT: "holder" });
    expect(allowed.status).toBe(0);
    expect(git(repo, "log", "--oneline").trim().split("\n")).toHaveLength(2);
  });

  test("AGENT_NAME also names the committer; no name at all is checked as an unknown committer", () => {
    const { mb, project, stage, commit } = setup();
    engine.fileReservationPaths(mb, { project_key: project, agent_name: "Holder", paths: ["src/**"] });
    stage("src/a.ts");
    const anonymous = commit();
    expect(anonymous.status).not.toBe(0);
    expect(anonymous.stderr).toContain("PIGEONHOLE_AGENT is not set");
    expect(commit({ AGENT_NAME: "Holder" }).status).toBe(0);
  });

  test("the bypass variable lets the commit through with a notice", () => {
    const { mb, project, stage, commit } = setup();
    engine.fileReservationPaths(mb, { project_key: project, agent_name: "Holder", paths: ["src/**"] });
    stage("src/a.ts");
    const r = commit({ PIGEONHOLE_AGENT: "Other", PIGEONHOLE_GUARD_BYPASS: "1" });
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual([
      "pigeonhole guard: bypassed by PIGEONHOLE_GUARD_BYPASS; file reservations not checked.",
    ]);
  });

  test("shared, released, expired-free and non-matching reservations do not block", () => {
    const { mb, project, stage, commit } = setup();
    engine.fileReservationPaths(mb, {
      project_key: project,
      agent_name: "Holder",
      paths: ["docs/**"],
      exclusive: false,
    });
    engine.fileReservationPaths(mb, { project_key: project, agent_name: "Holder", paths: ["*.md"] });
    engine.fileReservationPaths(mb, { project_key: project, agent_name: "Holder", paths: ["lib/**"] });
    engine.releaseFileReservations(mb, { project_key: project, agent_name: "Holder", paths: ["lib/**"] });
    stage("docs/guide.md");
    stage("notes/todo.md");
    stage("lib/x.ts");
    const r = commit({ PIGEONHOLE_AGENT: "Other" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("renames and deletions count the old path", () => {
    const { mb, project, stage, commit, repo } = setup();
    stage("src/a.ts", "one\n");
    expect(commit({ PIGEONHOLE_AGENT: "Other" }).status).toBe(0);
    engine.fileReservationPaths(mb, { project_key: project, agent_name: "Holder", paths: ["src/**"] });
    mkdirSync(join(repo, "lib"));
    git(repo, "mv", "src/a.ts", "lib/a.ts");
    const moved = commit({ PIGEONHOLE_AGENT: "Other" });
    expect(moved.status).not.toBe(0);
    expect(moved.stderr).toContain("src/a.ts: reserved by Holder");
    expect(moved.stderr).not.toContain("lib/a.ts:");
  });

  test("an unreadable mailbox warns and allows the commit", () => {
    const { mb, project, stage, commit, home } = setup();
    engine.fileReservationPaths(mb, { project_key: project, agent_name: "Holder", paths: ["src/**"] });
    rmSync(home, { recursive: true, force: true });
    stage("src/a.ts");
    const r = commit({ PIGEONHOLE_AGENT: "Other" });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/no mailbox at .*commit allowed \(the guard is advisory\)/);
  });

  test("a mailbox that cannot be opened warns and allows (advisory)", async () => {
    const home = temp("ph-guard-corrupt-");
    writeFileSync(join(home, "mailbox.sqlite3"), "this is not a database".repeat(100));
    const outcome = await engine.runPrecommitGuard({ home, project: "p", cwd: home, env: {} });
    expect(outcome.exit_code).toBe(0);
    expect(outcome.message).toMatch(/could not open the mailbox .*commit allowed \(the guard is advisory\)/);
  });
});

describe("installing and uninstalling", () => {
  const EXISTING = `#!/bin/sh
echo ran >> "$(git rev-parse --git-dir)/chained-marker"
if [ -n "$FAIL_CHAINED" ]; then echo "chained hook says no" >&2; exit 3; fi
exit 0
`;

  test("an existing hook is chained: it runs first, its failure blocks, uninstall restores it exactly", () => {
    const { mb, project, stage, commit, repo, hooks } = setup({ existingHook: EXISTING });
    const marker = join(repo, ".git", "chained-marker");
    expect(readFileSync(join(hooks, engine.CHAINED_HOOK_NAME), "utf8")).toBe(EXISTING);
    expect(readFileSync(join(hooks, "pre-commit"), "utf8")).toContain(engine.GUARD_MARKER);

    stage("a.txt");
    const failed = commit({ PIGEONHOLE_AGENT: "Holder", FAIL_CHAINED: "1" });
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain("chained hook says no");
    expect(readFileSync(marker, "utf8")).toBe("ran\n");

    expect(commit({ PIGEONHOLE_AGENT: "Holder" }).status).toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("ran\nran\n");

    engine.fileReservationPaths(mb, { project_key: project, agent_name: "Holder", paths: ["src/**"] });
    stage("src/b.ts");
    expect(commit({ PIGEONHOLE_AGENT: "Other" }).status).not.toBe(0);
    expect(readFileSync(marker, "utf8")).toBe("ran\nran\nran\n");

    const again = engine.installPrecommitGuard(mb, { project_key: project, code_repo_path: repo });
    expect(again).toMatchObject({
      already_installed: true,
      chained_hook_path: join(hooks, engine.CHAINED_HOOK_NAME),
    });
    expect(readFileSync(join(hooks, engine.CHAINED_HOOK_NAME), "utf8")).toBe(EXISTING);

    expect(engine.uninstallPrecommitGuard({ code_repo_path: repo })).toEqual({
      removed: true,
      restored_hook: true,
      hook_path: join(hooks, "pre-commit"),
    });
    expect(readFileSync(join(hooks, "pre-commit"), "utf8")).toBe(EXISTING);
    expect(statSync(join(hooks, "pre-commit")).mode & 0o777).toBe(0o755);
    expect(existsSync(join(hooks, engine.CHAINED_HOOK_NAME))).toBe(false);
    expect(commit({ PIGEONHOLE_AGENT: "Other" }).status).toBe(0);
    expect(engine.uninstallPrecommitGuard({ code_repo_path: repo })).toMatchObject({ removed: false });
    expect(readFileSync(join(hooks, "pre-commit"), "utf8")).toBe(EXISTING);
  });

  test("a fresh install writes an executable sh hook; uninstall removes it; non-executable old hooks keep their mode", () => {
    const { mb, project, repo, hooks } = setup({ install: false, existingHook: "#!/bin/sh\nexit 0\n" });
    chmodSync(join(hooks, "pre-commit"), 0o644);
    const r = engine.installPrecommitGuard(mb, { project_key: project, code_repo_path: repo });
    expect(r).toEqual({
      installed: true,
      hook_path: join(hooks, "pre-commit"),
      chained_hook_path: join(hooks, engine.CHAINED_HOOK_NAME),
      already_installed: false,
      project,
    });
    const script = readFileSync(r.hook_path, "utf8");
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toContain(`guard_entry='${ENTRY}'`);
    expect(script).toContain(`--home '${mb.paths.home}' --project '${project}'`);
    expect(statSync(r.hook_path).mode & 0o111).toBe(0o111);
    engine.uninstallPrecommitGuard({ code_repo_path: repo });
    expect(statSync(join(hooks, "pre-commit")).mode & 0o777).toBe(0o644);
  });

  test("core.hooksPath is honoured", () => {
    const { mb, project, repo, stage, commit } = setup({ install: false });
    git(repo, "config", "core.hooksPath", "my-hooks");
    const r = engine.installPrecommitGuard(mb, { project_key: project, code_repo_path: join(repo) });
    expect(r.hook_path).toBe(join(repo, "my-hooks", "pre-commit"));
    engine.fileReservationPaths(mb, { project_key: project, agent_name: "Holder", paths: ["src/**"] });
    stage("src/a.ts");
    expect(commit({ PIGEONHOLE_AGENT: "Other" }).status).not.toBe(0);
  });

  test("paths with quotes and spaces survive the sh quoting", () => {
    const parent = temp("ph guard's ");
    const home = join(parent, "mail box");
    const repo = join(parent, "re'po");
    mkdirSync(repo);
    git(repo, "init", "-q", "-b", "main");
    git(repo, "config", "user.name", "Test");
    git(repo, "config", "user.email", "test@example.com");
    const mb = engine.openMailbox({ home, archive: false });
    mailboxes.push(mb);
    const project = engine.ensureProject(mb, { human_key: repo }).slug;
    engine.registerAgent(mb, { project_key: project, program: "t", model: "m", name: "Holder" });
    engine.installPrecommitGuard(mb, { project_key: project, code_repo_path: repo });
    engine.fileReservationPaths(mb, { project_key: project, agent_name: "Holder", paths: ["*.txt"] });
    writeFileSync(join(repo, "a.txt"), "x");
    git(repo, "add", "a.txt");
    const r = spawnSync("git", ["commit", "-q", "-m", "first"], {
      cwd: repo,
      env: { ...process.env, PIGEONHOLE_AGENT: "Someone" },
      encoding: "utf8",
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("Someone is not an agent of project");
    expect(r.stderr).toContain("a.txt: reserved by Holder (pattern *.txt");
  });

  test("code_repo_path must be an absolute path of a Git work tree", () => {
    const { mb, project } = setup({ install: false });
    const plain = temp("ph-plain-");
    expect(() =>
      engine.installPrecommitGuard(mb, { project_key: project, code_repo_path: "relative/repo" }),
    ).toThrow(/relative/);
    expect(() => engine.installPrecommitGuard(mb, { project_key: project, code_repo_path: plain })).toThrow(
      /not inside a Git work tree/,
    );
    expect(() => engine.uninstallPrecommitGuard({ code_repo_path: join(plain, "missing") })).toThrow(
      /not an existing directory/,
    );
  });
});
