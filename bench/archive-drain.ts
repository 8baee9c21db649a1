/**
 * How long the Git archive takes to catch up after a burst of sends (target: 10,000 messages in < 2 s).
 * Measured, never asserted. Run alone with `npm run build && node dist/bench/archive-drain.js [messages]
 * [batchSize]`, or call `measureArchiveCatchUp` from the benchmark table.
 *
 * The burst is `sendMessage` (1 recipient, 512-byte body) in a tight loop with the writer attached; the
 * clock runs from the last send's return to the moment `flushArchive()` resolves, i.e. every file
 * rendered, written, staged and committed. CPU time (this process plus Git) is reported too, because on
 * a shared machine wall time says as much about the neighbours as about the writer.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type DrainedBatch, startArchiveWriter } from "../engine/archive/writer.js";
import { ensureProject, Mailbox, registerAgent, sendMessage } from "../engine/index.js";
import { childrenCpuMs, cpuMs } from "./measure.js";

/** One measurement of `measureArchiveCatchUp`. */
export interface ArchiveCatchUp {
  messages: number;
  /** Wall time of the burst of sends. */
  sendMs: number;
  /** Wall time from the last send's return until the archive held every message. */
  catchUpMs: number;
  batches: number;
  commits: number;
  /** CPU time of the catch-up: this process plus Git (Linux only; 0 elsewhere for Git). */
  cpuMs: number;
  gitCpuMs: number;
}

/**
 * Send `messages` messages in a burst into a fresh mailbox (temp dir, archive on) and measure how long
 * the archive takes to catch up. The mailbox is removed afterwards.
 */
export async function measureArchiveCatchUp(messages = 10_000, batchSize?: number): Promise<ArchiveCatchUp> {
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
    const gitBefore = childrenCpuMs();
    await mb.flushArchive();
    const caughtUp = performance.now();
    const result: ArchiveCatchUp = {
      messages,
      sendMs: burstEnd - sendStart,
      catchUpMs: caughtUp - burstEnd,
      batches: batches.length,
      commits: batches.filter((b) => b.committed).length,
      cpuMs: cpuMs() - cpuBefore,
      gitCpuMs: childrenCpuMs() - gitBefore,
    };
    await mb.close();
    return result;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const batchArg = process.argv[3];
  const r = await measureArchiveCatchUp(
    Number(process.argv[2] ?? 10_000),
    batchArg ? Number(batchArg) : undefined,
  );
  console.log(
    `${r.messages} sends in ${r.sendMs.toFixed(0)} ms; archive caught up ${r.catchUpMs.toFixed(0)} ms after the last send ` +
      `(${r.batches} batches, ${r.commits} commits; ${r.cpuMs.toFixed(0)} ms CPU, ${r.gitCpuMs.toFixed(0)} of it in git)`,
  );
}
