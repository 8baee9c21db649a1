/**
 * How long the Git archive takes to catch up after a burst of sends (target: 10,000 messages in < 2 s).
 * Measured, never asserted: `npm run build && node dist/bench/archive-drain.js [messages] [batchSize]`.
 *
 * The burst is `sendMessage` (1 recipient, 512-byte body) in a tight loop with the writer attached; the
 * clock runs from the last send's return to the moment `flushArchive()` resolves, i.e. every file
 * rendered, written, staged and committed. CPU time (this process plus Git) is printed too, because on a
 * shared machine wall time says as much about the neighbours as about the writer.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DrainedBatch, startArchiveWriter } from "../engine/archive/writer.js";
import { ensureProject, Mailbox, registerAgent, sendMessage } from "../engine/index.js";

/** CPU milliseconds used so far by this process and its finished children (git). */
function cpuMs(): number {
  const self = process.resourceUsage();
  return (self.userCPUTime + self.systemCPUTime) / 1000 + childCpuMs();
}

/** Children's CPU from /proc (Linux); 0 elsewhere. */
function childCpuMs(): number {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]?.split(" ") ?? [];
    const ticks = Number(fields[13]) + Number(fields[14]); // cutime + cstime, in USER_HZ (100/s)
    return (ticks * 1000) / 100;
  } catch {
    return 0;
  }
}

const messages = Number(process.argv[2] ?? 10_000);
const batchSize = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const home = mkdtempSync(join(tmpdir(), "pigeonhole-bench-archive-"));
try {
  const mb = new Mailbox({ home, archive: true });
  const project = ensureProject(mb, { human_key: "/bench/project" });
  const agent = { project_key: project.slug, program: "bench", model: "bench" };
  const sender = registerAgent(mb, { ...agent, name: "BenchSender" });
  const recipient = registerAgent(mb, { ...agent, name: "BenchRecipient" });
  const batches: DrainedBatch[] = [];
  mb.archive = startArchiveWriter(mb, { batchSize, onBatch: (b) => batches.push(b) });
  await mb.flushArchive(); // repository created, first jobs drained: measure the steady state
  batches.length = 0;

  const body = "lorem ipsum dolor sit amet ".repeat(19).slice(0, 512);
  const sendStart = performance.now();
  for (let i = 0; i < messages; i++) {
    await sendMessage(mb, {
      project_key: project.slug,
      sender_name: sender.name,
      to: recipient.name,
      subject: `Status update ${i}`,
      body_md: body,
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
    `${messages} sends in ${(burstEnd - sendStart).toFixed(0)} ms; archive caught up ${(caughtUp - burstEnd).toFixed(0)} ms after the last send ` +
      `(${batches.length} batches, ${commits} commits; ${drainCpu.toFixed(0)} ms CPU, ${gitCpu.toFixed(0)} of it in git)`,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
