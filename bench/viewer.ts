import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { Manifest } from "../exporter/bundle-format.js";
import { exportBundle } from "../exporter/export.js";
import { generateKeyFiles } from "../exporter/keys.js";
import { defaultViewerDir } from "../exporter/pipeline/bundle-files.js";
import { startPreviewServer } from "../exporter/preview.js";
import { CHROMIUM_PATH, launchChromium } from "../fixtures/local-process.js";
import { ChromiumMemory } from "./chromium-memory.js";
import { READ_MAILBOX_MESSAGES } from "./engine.js";
import { costRatio, percentile } from "./measure.js";
import type { BenchContext, BenchModule, BenchRow } from "./types.js";
import { startBaselineServer } from "./viewer-baseline.js";

/**
 * Viewer rows (issue 6): the 100,000-message bench mailbox exported signed, served by `pigeonhole
 * preview`, opened in headless Chromium. Time from navigation to verified + the first rows of the
 * busiest inbox (a fresh browser context each time: nothing cached), time from a search to its results
 * on screen, and the JS heap; each against bare sql.js in the same browser in the same run (fetch the
 * chunks, open them, one inbox query; the same FTS4 match), the least any sql.js page must do.
 */

const TARGET_FIRST_INBOX_MS = 3000;
const TARGET_SEARCH_MS = 200;

/** What the viewer benchmark runs; the defaults make the table, smaller counts make the smoke test. */
export interface ViewerBenchOptions {
  /** Messages in the seeded mailbox (`ctx.seededMailbox`). */
  messages: number;
  /** Cold opens (fresh browser context each) of the viewer and of the baseline; the median is reported. */
  openRuns: number;
}

export const VIEWER_BENCH_DEFAULTS: ViewerBenchOptions = { messages: READ_MAILBOX_MESSAGES, openRuns: 3 };

/** Searches as typed in the viewer, and the FTS4 expression the viewer sends for each. */
const SEARCHES: [string, string][] = [
  ["deploy", '"deploy"'],
  ["latency OR timeout", '"latency" OR "timeout"'],
  ['"code freeze"', '"code freeze"'],
  ["migrat*", '"migrat*"'],
  ["review -draft", '"review" NOT "draft"'],
];

function median(values: number[]): number {
  return percentile([...values], 50);
}

function skipped(note: string): BenchRow[] {
  return [
    {
      name: "viewer: open a signed bundle to the first inbox rows",
      figure: null,
      unit: "ms",
      baseline: null,
      baseline_figure: null,
      ratio: null,
      target: `< ${TARGET_FIRST_INBOX_MS} ms`,
      met: null,
      note,
    },
  ];
}

async function heapBytes(context: BrowserContext, page: Page): Promise<number> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  await cdp.send("Performance.enable");
  const { metrics } = await cdp.send("Performance.getMetrics");
  return metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? Number.NaN;
}

/** The viewer bench module with `options` (see ViewerBenchOptions). */
export function createViewerBench(options: ViewerBenchOptions): BenchModule {
  return {
    name: "viewer",
    memoryNote: "exporting the bench mailbox with the viewer, the preview and baseline servers, Playwright",
    run: (ctx) => runViewerBench(ctx, options),
  };
}

export const viewerBench = createViewerBench(VIEWER_BENCH_DEFAULTS);

async function runViewerBench(ctx: BenchContext, options: ViewerBenchOptions): Promise<BenchRow[]> {
  const OPEN_RUNS = options.openRuns;
  if (!existsSync(CHROMIUM_PATH))
    return skipped(`no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH_PATH)`);
  const viewerDir = defaultViewerDir();
  if (viewerDir === null) return skipped("the viewer is not built (npm run build)");
  const { home } = await ctx.seededMailbox(options.messages);
  const dir = await ctx.tempDir("viewer");
  const keyFile = join(dir, "bundle-key");
  await generateKeyFiles(keyFile);
  ctx.log("viewer: exporting the bench mailbox with the viewer");
  const out = join(dir, "bundle");
  const summary = await exportBundle({ home, out, signKeyFile: keyFile, viewerDir });
  const manifest = readFileSync(join(out, "manifest.json"), "utf8");
  const chunks = (JSON.parse(manifest) as Manifest).database.chunks.map((c) => `/bundle/${c.path}`);

  const db = new Database(join(home, "mailbox.sqlite3"), { readonly: true });
  const busiest = db
    .prepare(
      `SELECT a.id, a.name FROM agents a JOIN message_recipients r ON r.agent_id = a.id
        GROUP BY a.id ORDER BY count(*) DESC LIMIT 1`,
    )
    .get() as { id: number; name: string };
  db.close();

  const preview = await startPreviewServer({ root: out });
  const baseline = await startBaselineServer(out);
  let browser: Browser | undefined;
  const chromium = new ChromiumMemory();
  try {
    browser = await launchChromium();
    const ours: number[] = [];
    const base: number[] = [];
    const marks: Record<string, number[]> = {};
    let oursHeap = Number.NaN;
    let baseHeap = Number.NaN;
    let searchPage: { context: BrowserContext; page: Page } | undefined;
    let basePage: { context: BrowserContext; page: Page } | undefined;
    for (let run = 0; run < OPEN_RUNS; run++) {
      ctx.log(`viewer: open run ${run + 1}/${OPEN_RUNS}`);
      const context = await browser.newContext();
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(`${preview.url}#/agent/${encodeURIComponent(busiest.name)}`);
      await page.locator('#status[data-verification="verified"]').waitFor({ timeout: 120_000 });
      await page.locator(".vlist [data-message-id]").first().waitFor({ timeout: 120_000 });
      ours.push(performance.now() - started);
      const entries = (await page.evaluate(
        `performance.getEntriesByType("mark").map((m) => [m.name, m.startTime])`,
      )) as [string, number][];
      for (const [name, at] of entries) marks[name] = [...(marks[name] ?? []), at];
      oursHeap = await heapBytes(context, page);
      chromium.sample();
      if (searchPage) await searchPage.context.close();
      searchPage = { context, page };

      const baseContext = await browser.newContext();
      const basePageNow = await baseContext.newPage();
      const baseStarted = performance.now();
      await basePageNow.goto(`${baseline.origin}/`);
      await basePageNow.evaluate(`openInbox(${JSON.stringify(chunks)}, ${busiest.id})`);
      base.push(performance.now() - baseStarted);
      baseHeap = await heapBytes(baseContext, basePageNow);
      if (basePage) await basePage.context.close();
      basePage = { context: baseContext, page: basePageNow };
    }

    const oursSearch: number[] = [];
    const baseSearch: number[] = [];
    for (const [q, match] of SEARCHES) {
      const page = searchPage?.page as Page;
      const hash = `#/search?q=${encodeURIComponent(q)}`;
      const started = performance.now();
      await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
      await page.locator(`main[data-route=${JSON.stringify(hash)}] [role=status]`).waitFor();
      oursSearch.push(performance.now() - started);
      const baseStarted = performance.now();
      await basePage?.page.evaluate(`search(${JSON.stringify(match)})`);
      baseSearch.push(performance.now() - baseStarted);
    }
    chromium.sample();
    await searchPage?.context.close();
    await basePage?.context.close();

    const open = median(ours);
    const openBase = median(base);
    const search = median(oursSearch);
    const searchBase = median(baseSearch);
    const breakdown = ["start", "manifest", "downloaded", "verified", "opened"]
      .map((name) => {
        const at = marks[`pigeonhole:${name}`];
        return at ? `${name} ${Math.round(median(at))}` : null;
      })
      .filter(Boolean)
      .join(", ");
    chromium.record(ctx);
    const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
    return [
      {
        name: `viewer: open a ${summary.counts.exported.messages.toLocaleString("en-US")}-message signed bundle to verified + first inbox rows (median of ${OPEN_RUNS}, cold)`,
        figure: Math.round(open),
        unit: "ms",
        baseline: "bare sql.js: fetch the chunks, open, one inbox query (same browser)",
        baseline_figure: Math.round(openBase),
        ratio: costRatio(open, openBase),
        target: `< ${TARGET_FIRST_INBOX_MS} ms`,
        met: open < TARGET_FIRST_INBOX_MS,
        note: `page marks (ms since navigation): ${breakdown}; database ${mib(summary.bytes.database)} MiB in ${summary.chunks} chunks`,
      },
      {
        name: `viewer: search to results on screen (median of ${SEARCHES.length} queries)`,
        figure: Math.round(search),
        unit: "ms",
        baseline: "bare sql.js: the same FTS4 match, ids and 20 snippets",
        baseline_figure: Math.round(searchBase),
        ratio: costRatio(search, searchBase),
        target: `< ${TARGET_SEARCH_MS} ms`,
        met: search < TARGET_SEARCH_MS,
      },
      {
        name: "viewer: JS heap after the first inbox (after GC)",
        figure: mib(oursHeap),
        unit: "MiB",
        baseline: "bare sql.js page after its inbox query",
        baseline_figure: mib(baseHeap),
        ratio: costRatio(oursHeap, baseHeap),
        target: "-",
        met: null,
        note: "the database itself lives in sql.js's WebAssembly memory, outside the JS heap, in both",
      },
    ];
  } finally {
    await browser?.close();
    await preview.close();
    await baseline.close();
  }
}
