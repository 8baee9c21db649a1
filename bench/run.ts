import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createContext } from "./context.js";
import { BENCH_MODULES } from "./modules.js";
import { formatTable, machineInfo, peakRssBytes } from "./report.js";
import type { BenchRow } from "./types.js";

/**
 * `npm run bench [-- --only engine,server] [--json FILE]`: run the bench modules, print one table with
 * machine information and peak memory, and optionally write the same as JSON. Figures are measured,
 * never asserted: a missed target shows as "NO" in the table, and the exit code stays 0.
 */
async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: "string" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  const known = BENCH_MODULES.map((m) => m.name);
  if (values.help) {
    process.stdout.write(`usage: npm run bench -- [--only ${known.join(",")}] [--json FILE]\n`);
    return 0;
  }
  const wanted =
    values.only
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean) ?? known;
  const unknown = wanted.filter((name) => !known.includes(name));
  if (unknown.length) {
    process.stderr.write(`error: unknown bench module ${unknown.join(", ")}; known: ${known.join(", ")}\n`);
    return 2;
  }

  const machine = machineInfo();
  const started = performance.now();
  const ctx = createContext();
  const rows: (BenchRow & { module: string })[] = [];
  try {
    for (const module of BENCH_MODULES.filter((m) => wanted.includes(m.name))) {
      ctx.log(`module ${module.name}`);
      for (const row of await module.run(ctx)) rows.push({ module: module.name, ...row });
    }
  } finally {
    await ctx.dispose();
  }
  const duration_s = Math.round((performance.now() - started) / 100) / 10;
  const peak_rss_bytes = peakRssBytes();

  process.stdout.write(
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gb} GB, Node ${machine.node}, ${machine.platform}; load ${machine.load_at_start} at start\n\n`,
  );
  process.stdout.write(formatTable(rows));
  process.stdout.write(
    `\nPeak RSS: ${(peak_rss_bytes / 2 ** 20).toFixed(0)} MiB. Total time: ${duration_s} s.\n`,
  );
  if (values.json) {
    const report = { generated_at: new Date().toISOString(), machine, duration_s, peak_rss_bytes, rows };
    await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`Wrote ${values.json}\n`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
