/**
 * How long the Git archive takes to catch up after a burst of sends (target: 10,000 messages in < 2 s).
 * Measured, never asserted: `npm run build && node dist/bench/archive-drain.js [messages] [batchSize]`.
 *
 * The burst is written the way a send writes (one immediate transaction per message: the message, its
 * recipient and its archive job) while the writer is attached; the clock runs from the last send to the
 * moment `flushArchive()` resolves, i.e. every file rendered, written, added and committed.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enqueueArchiveJob } from "../engine/archive/jobs.js";
import { type DrainedBatch, startArchiveWriter } from "../engine/archive/writer.js";
import { Mailbox } from "../engine/mailbox.js";
import { ensureProject } from "../engine/projects.js";

/** CPU milliseconds used so far by this process and its finished children (git). */
function cpuMs(): number {
  const self = process.resourceUsage();
  return (self.userCPUTime + self.systemCPUTime) / 1000 + childCpuMs();
}

/** Children's CPU from /proc (Linux); 0 elsewhere. */
function childCpuMs(): number {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(fields[13]) + Number(fields[14]); // cutime + cstime
    return (ticks * 1000) / 100;
  } catch {
    return 0;
  }
}

const messages = Number(process.argv[2] ?? 10_000);
const batchSize = Number(process.argv[3] ?? 2000);
const home = mkdtempSync(join(tmpdir(), "pigeonhole-bench-archive-"));
try {
  const mb = new Mailbox({ home, archive: true });
  const project = ensureProject(mb, { human_key: "/bench/project" });
  const agent = (name: string) =>
    mb.write(() => {
      const now = mb.now();
      const id = Number(
        mb
          .statement(
            `INSERT INTO agents (project_id, name, program, model, inception_ts, last_active_ts, registration_token)
             VALUES (?, ?, 'bench', 'bench', ?, ?, 'token')`,
          )
          .run(project.id, name, now, now).lastInsertRowid,
      );
      enqueueArchiveJob(mb, "agent", id);
      return id;
    });
  const sender = agent("BenchSender");
  const recipient = agent("BenchRecipient");
  const batches: DrainedBatch[] = [];
  mb.archive = startArchiveWriter(mb, { batchSize, onBatch: (b) => batches.push(b) });
  await mb.flushArchive(); // repository created, first jobs drained: measure the steady state
  batches.length = 0;

  const body = "lorem ipsum dolor sit amet ".repeat(19).slice(0, 512);
  const insertMessage = mb.statement(
    `INSERT INTO messages (project_id, sender_id, subject, body_md, created_ts) VALUES (?, ?, ?, ?, ?)`,
  );
  const insertRecipient = mb.statement(
    "INSERT INTO message_recipients (message_id, agent_id, kind) VALUES (?, ?, 'to')",
  );
  const sendStart = performance.now();
  for (let i = 0; i < messages; i++) {
    mb.write(() => {
      const id = Number(
        insertMessage.run(project.id, sender, `Status update ${i}`, body, mb.now()).lastInsertRowid,
      );
      insertRecipient.run(id, recipient);
      enqueueArchiveJob(mb, "message", id);
    });
  }
  const burstEnd = performance.now();
  const cpuBefore = cpuMs();
  const gitBefore = childCpuMs();
  await mb.flushArchive();
  const caughtUp = performance.now();
  const drainCpu = cpuMs() - cpuBefore;
  const gitCpu = childCpuMs() - gitBefore;
  await mb.close();

  const commits = batches.filter((b) => b.committed).length;
  console.log(
    `${messages} messages sent in ${(burstEnd - sendStart).toFixed(0)} ms; archive caught up ${(caughtUp - burstEnd).toFixed(0)} ms after the last send (${batches.length} batches of <= ${batchSize}, ${commits} commits; ${drainCpu.toFixed(0)} ms of CPU, ${gitCpu.toFixed(0)} of it in git)`,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
