import { openMailbox } from "../engine/index.js";
import { inboxRows, searchRows } from "./engine-read.js";
import { sendRows } from "./engine-send.js";
import type { BenchModule, BenchRow } from "./types.js";

/** The size of the mailbox the read benchmarks run on (issue 2: "a 100,000-message mailbox"). */
export const READ_MAILBOX_MESSAGES = 100_000;

/** Engine rows: send throughput and archive catch-up, seeding time, fetch_inbox and search latency. */
export const engineBench: BenchModule = {
  name: "engine",
  memoryNote:
    "send bursts with the archive writer, seeding the 100,000-message mailbox, fetch_inbox and search on it",
  async run(ctx) {
    const rows: BenchRow[] = [];
    rows.push(...(await sendRows(ctx)));
    const { home, summary, cpu_ms } = await ctx.seededMailbox(READ_MAILBOX_MESSAGES);
    const seconds = summary.elapsed_ms / 1000;
    rows.push({
      name: `seed ${READ_MAILBOX_MESSAGES.toLocaleString("en-US")} messages (archive off)`,
      figure: seconds,
      unit: "s",
      baseline: null,
      baseline_figure: null,
      ratio: null,
      target: "< 60 s",
      met: seconds < 60,
      note: `${(cpu_ms / 1000).toFixed(1)} s CPU; ${summary.threads.toLocaleString("en-US")} threads, ${summary.recipients.toLocaleString("en-US")} deliveries, ${summary.agents} agents in ${summary.projects} projects`,
    });
    const mb = openMailbox({ home, archive: false });
    try {
      ctx.log("fetch_inbox latency");
      rows.push(...inboxRows(mb, summary.messages));
      ctx.log("search latency");
      rows.push(...searchRows(mb, summary.messages));
    } finally {
      await mb.close();
    }
    return rows;
  },
};
