import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createContext } from "./context.js";
import { BENCH_MODULES } from "./modules.js";
import { peakRss, resetPeakRss } from "./process-memory.js";
import {
  type BenchReport,
  currentLoad,
  formatMarkdown,
  formatText,
  machineInfo,
  peakRssBytes,
  type ReportRow,
} from "./report.js";
import { writeGeneratedSection } from "./tables.js";

const USAGE = `usage: npm run bench -- [--only MODULES] [--json FILE] [--markdown FILE]

Runs the benchmark modules (${BENCH_MODULES.map((m) => m.name).join(", ")}) and prints one table: each
figure with the baseline measured in the same run, the ratio, the target and whether it was met; then
the peak memory of every process involved. Figures are measured, never asserted: a missed target shows
as NO and the exit code stays 0. A full run takes a minute or two on 2 cores.

  --only MODULES    comma-separated modules to run (default: all)
  --json FILE       also write the report as JSON
  --markdown FILE   write the tables into FILE's generated section (docs/PERFORMANCE.md), keeping the
                    rest of the file
  -h, --help        this help
`;

/**
 * `npm run bench`: run the bench modules, print the report (results, memory, notes), and optionally
 * write it as JSON and as the generated section of a Markdown document. Exit code 2 on bad arguments.
 */
async function main(argv: string[]): Promise<number> {
  let values: { only?: string; json?: string; markdown?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: "string" },
        json: { type: "string" },
        markdown: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const known = BENCH_MODULES.map((m) => m.name);
  const wanted =
    values.only
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean) ?? known;
  const unknown = wanted.filter((name) => !known.includes(name));
  if (unknown.length || wanted.length === 0) {
    process.stderr.write(
      `error: unknown bench module ${unknown.join(", ") || "(none given)"}; known: ${known.join(", ")}\n`,
    );
    return 2;
  }

  const machine = machineInfo();
  const generated_at = new Date().toISOString();
  const started = performance.now();
  const ctx = createContext();
  const rows: ReportRow[] = [];
  try {
    for (const module of BENCH_MODULES.filter((m) => wanted.includes(m.name))) {
      ctx.log(`module ${module.name}`);
      ctx.module = module.name;
      const firstMemoryRow = ctx.memoryRows.length;
      const resettable = resetPeakRss();
      const moduleRows = await module.run(ctx);
      for (const row of moduleRows) rows.push({ module: module.name, ...row });
      // The bench process's own row goes first, above the processes the module started.
      ctx.memoryRows.splice(firstMemoryRow, 0, {
        module: module.name,
        process: "bench process",
        peak_bytes: resettable ? peakRss() : peakRssBytes(),
        note: `${resettable ? "" : "peak since the run started (no per-module reset here): "}${module.memoryNote}`,
      });
    }
  } finally {
    await ctx.dispose();
  }
  const report: BenchReport = {
    generated_at,
    machine,
    load_at_end: currentLoad(),
    options: values.only ? { only: wanted.join(",") } : {},
    duration_s: Math.round((performance.now() - started) / 100) / 10,
    rows,
    memory: ctx.memoryRows,
    peak_rss_bytes: peakRssBytes(),
  };
  process.stdout.write(formatText(report));
  if (values.json) {
    await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`Wrote ${values.json}\n`);
  }
  if (values.markdown) {
    writeGeneratedSection(values.markdown, "bench", "npm run bench", formatMarkdown(report));
    process.stdout.write(`Wrote the generated section of ${values.markdown}\n`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
