import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ensureProject, mailboxHealth, openMailbox, registerAgent, sendMessage } from "../../engine/index.js";

/**
 * `mailboxHealth` tells a watcher when the Git archive holds everything: a mailbox that ran with the
 * archive off has no repository and no pending jobs, which must not read as "archive complete".
 */

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

async function mailboxWithMail(): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), "ph-health-"));
  homes.push(home);
  const mb = openMailbox({ home, archive: false });
  const project = ensureProject(mb, { human_key: "/work/health" }).slug;
  const agent = { project_key: project, program: "test", model: "test" };
  registerAgent(mb, { ...agent, name: "BlueLake" });
  registerAgent(mb, { ...agent, name: "GreenCastle" });
  await sendMessage(mb, {
    project_key: project,
    sender_name: "BlueLake",
    to: "GreenCastle",
    subject: "s",
    body_md: "b",
  });
  await mb.close();
  return home;
}

describe("mailbox health", () => {
  it("is not archive_ready until the repository exists, then reports the backlog drained", async () => {
    const home = await mailboxWithMail();
    const offline = openMailbox({ home, archive: false });
    expect(mailboxHealth(offline)).toMatchObject({
      archive_enabled: false,
      archive_ready: true,
      messages: 1,
    });
    await offline.close();

    // Archive on, writer not run yet: nothing pending, yet the archive holds nothing.
    const mb = openMailbox({ home, archive: true });
    expect(mailboxHealth(mb)).toMatchObject({
      archive_enabled: true,
      archive_ready: false,
      archive_jobs_pending: 0,
    });
    await mb.flushArchive();
    expect(mailboxHealth(mb)).toMatchObject({
      archive_enabled: true,
      archive_ready: true,
      archive_jobs_pending: 0,
    });
    await mb.close();
  });
});
