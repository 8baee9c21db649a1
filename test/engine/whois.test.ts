import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { ensureProject, openMailbox, registerAgent, retireAgent, whois } from "../../engine/index.js";
import { tempMailbox } from "./helpers.js";

test("whois: profile without token, plus the archive commits of its profile", async () => {
  const home = mkdtempSync(join(tmpdir(), "ph-whois-"));
  const mb = openMailbox({ home, archive: true });
  try {
    ensureProject(mb, { human_key: "/w/app" });
    registerAgent(mb, {
      project_key: "w-app",
      program: "codex",
      model: "gpt",
      name: "Wren",
      task_description: "docs",
    });
    retireAgent(mb, { project_key: "w-app", agent_name: "Wren" });
    await mb.flushArchive();
    const result = await whois(mb, { project_key: "w-app", agent_name: "wren", commit_limit: 5 });
    expect(result).toMatchObject({
      name: "Wren",
      program: "codex",
      task_description: "docs",
      project_slug: "w-app",
    });
    expect(result).not.toHaveProperty("registration_token");
    expect(result.recent_commits.length).toBeGreaterThanOrEqual(1);
    expect(result.recent_commits[0]).toEqual({
      hexsha: expect.stringMatching(/^[0-9a-f]{7,}$/),
      summary: expect.any(String),
      authored_ts: expect.any(String),
    });
    const without = await whois(mb, {
      project_key: "w-app",
      agent_name: "Wren",
      include_recent_commits: false,
    });
    expect(without.recent_commits).toEqual([]);
  } finally {
    await mb.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test("whois with the archive off has no commits; unknown agents are NOT_FOUND", async () => {
  const { mb } = tempMailbox();
  ensureProject(mb, { human_key: "/w" });
  registerAgent(mb, { project_key: "w", program: "p", model: "m", name: "Ada" });
  expect((await whois(mb, { project_key: "w", agent_name: "Ada" })).recent_commits).toEqual([]);
  await expect(whois(mb, { project_key: "w", agent_name: "Nobody" })).rejects.toMatchObject({
    code: "NOT_FOUND",
  });
});
