import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { ensureProject, registerAgent } from "../../engine/index.js";
import { exportBundle } from "../../exporter/export.js";
import { databaseBytes, openBetterSqlite, openTestMailbox, tempDir } from "./helpers.js";

/**
 * The snapshot is taken while another process keeps sending (through the built engine in dist/, as a
 * real second writer): every exported message must have all of its recipients.
 */

const ENGINE = fileURLToPath(new URL("../../dist/engine/index.js", import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** A child that sends to two recipients plus one cc, forever, printing a line per message. */
function startSender(home: string, slug: string): ChildProcess {
  const script = join(home, "..", "sender.mjs");
  writeFileSync(
    script,
    `import { openMailbox, sendMessage } from ${JSON.stringify(ENGINE)};
     const mb = openMailbox({ home: ${JSON.stringify(home)}, archive: false });
     for (let i = 0; ; i++) {
       await sendMessage(mb, { project_key: ${JSON.stringify(slug)}, sender_name: "Writer", to: ["Reader", "Auditor"],
         cc: ["Watcher"], subject: "Load " + i, body_md: "Message number " + i + " ".repeat(i % 500) });
       process.stdout.write("sent\\n");
     }`,
  );
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return child;
}

/** Resolve once the child has reported `n` sends; its output keeps being drained afterwards. */
function sentAtLeast(child: ChildProcess, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    child.stdout!.on("data", (chunk: Buffer) => {
      sent += String(chunk).split("\n").length - 1;
      if (sent >= n) resolve();
    });
    child.on("exit", () => reject(new Error("the sender stopped")));
  });
}

describe("snapshot", () => {
  it("is consistent while another process sends", async () => {
    const root = tempDir();
    const home = join(root, "home");
    const mb = openTestMailbox(home);
    const project = ensureProject(mb, { human_key: "/srv/load" });
    for (const name of ["Writer", "Reader", "Auditor", "Watcher"]) {
      registerAgent(mb, { project_key: project.slug, program: "p", model: "m", name });
    }
    const child = startSender(home, project.slug);
    await sentAtLeast(child, 50);
    const counts: number[] = [];
    for (let round = 0; round < 3; round++) {
      const out = join(root, `bundle-${round}`);
      const summary = await exportBundle({ home, out, viewerDir: null });
      const db = openBetterSqlite(await databaseBytes(out));
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      const incomplete = db
        .prepare(
          `SELECT m.id, COUNT(r.agent_id) AS n FROM messages m LEFT JOIN message_recipients r ON r.message_id = m.id
           GROUP BY m.id HAVING n <> 3`,
        )
        .all();
      expect(incomplete).toEqual([]);
      expect(summary.counts.exported.recipients).toBe(summary.counts.exported.messages * 3);
      counts.push(summary.counts.exported.messages);
    }
    expect(child.exitCode).toBeNull();
    // The sender kept going between exports, so each snapshot saw more mail than the last.
    expect(counts[2]!).toBeGreaterThan(counts[0]!);
    child.kill("SIGKILL");
    await once(child, "exit");
  });
});
