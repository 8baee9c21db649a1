import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type Database from "better-sqlite3";
import type { ManifestEncryption, ScrubPreset } from "./bundle-format.js";
import {
  type ExportOptions,
  type ProgressEvent,
  type ResolvedExport,
  resolveExportOptions,
  type StageName,
} from "./export-options.js";
import { type AttachmentPlacement, inventoryAttachments } from "./pipeline/attachments.js";
import { copyViewer, listFiles, writeBundleReadme, writeManifest } from "./pipeline/bundle-files.js";
import { writeChunks } from "./pipeline/chunk.js";
import type { TableCounts } from "./pipeline/counts.js";
import { encryptedBytes, fileBytes, manifestEncryption } from "./pipeline/encrypt.js";
import { finalizeDatabase } from "./pipeline/finalize.js";
import { applyPseudonyms, type PseudonymizeOutput } from "./pipeline/pseudonymize.js";
import { applyScope, type ScopeOutput } from "./pipeline/scope.js";
import { applyScrub, type ScrubOutput } from "./pipeline/scrub.js";
import { type ScrubWorker, startScrubWorker } from "./pipeline/scrub-threads.js";
import { openWorkCopy, takeSnapshot } from "./pipeline/snapshot.js";
import {
  assertOutAvailable,
  createStaging,
  publish,
  removeStaging,
  removeStagingSync,
} from "./pipeline/staging.js";
import { startViewerWorker, type ViewerWorker } from "./pipeline/viewer-threads.js";
import { writeZip } from "./pipeline/zip.js";
import { loadSigningKey, writeBundleSignatures } from "./signing.js";

export type { ExportOptions, ProgressEvent, StageName } from "./export-options.js";

/** What an export did: counts only (never a name, subject, body or secret). */
export interface ExportSummary {
  out: string;
  format: "directory" | "zip";
  scrub: ScrubPreset;
  pseudonymized: boolean;
  encryption: ManifestEncryption | null;
  signed: boolean;
  viewer: boolean;
  /** Row counts after the snapshot, after scoping, and in the bundle. */
  counts: { snapshot: TableCounts; scoped: TableCounts; exported: TableCounts };
  /** Redactions per rule. */
  redactions: Record<string, number>;
  /** What the rewriting stages did, in counts (pseudonymize: null when it did not run). */
  stages: {
    scope: Omit<ScopeOutput, "counts">;
    scrub: Omit<ScrubOutput, "redactions" | "preset">;
    pseudonymize: PseudonymizeOutput | null;
  };
  attachments: Omit<AttachmentPlacement, "bytes">;
  bytes: {
    snapshot: number;
    database: number;
    /** Sum of the chunks (ciphertext when encrypted). */
    chunks: number;
    attachments: number;
    /** Every file of the bundle. */
    bundle: number;
    /** The zip, with `zip`. */
    zip: number | null;
  };
  chunks: number;
  /** Milliseconds per stage that ran, and in total. */
  timings_ms: Partial<Record<StageName, number>> & { total: number };
}

/**
 * Export a mailbox as a bundle (DESIGN.md, "Exporter and bundle format"): snapshot → scope → scrub →
 * pseudonymize → finalize → chunk (+ encrypt) → write → sign → publish. Every option is checked before
 * any work starts. The bundle is built in a private staging directory next to `out` and published with
 * a rename; on any failure (or abort, or an exception from `onProgress`) nothing is published and the
 * staging directory is removed, so `out` holds its previous content or the complete new bundle, never
 * part of one.
 */
export async function exportBundle(options: ExportOptions): Promise<ExportSummary> {
  const started = performance.now();
  const o = resolveExportOptions(options);
  const signingKey = o.signKeyFile === null ? null : await loadSigningKey(o.signKeyFile);
  await assertOutAvailable(o.out, o.force, o.zip);
  const timings: Partial<Record<StageName, number>> = {};
  const emit = (event: ProgressEvent) => options.onProgress?.(event);
  const stage = async <T>(name: StageName, run: () => T | Promise<T>): Promise<T> => {
    options.signal?.throwIfAborted();
    emit({ stage: name, phase: "start" });
    const t0 = performance.now();
    const result = await run();
    timings[name] = Math.round(performance.now() - t0);
    emit({ stage: name, phase: "end" });
    return result;
  };
  const progress = (name: StageName) => (done: number, total?: number) =>
    emit({ stage: name, phase: "update", done, ...(total === undefined ? {} : { total }) });

  const generatedAt = (options.now?.() ?? new Date()).toISOString();
  const staging = await createStaging(o.out);
  // process.exit (e.g. a second Ctrl-C) skips `finally`; the staging directory holds the unscrubbed snapshot.
  const onExit = () => removeStagingSync(staging, o.out);
  process.once("exit", onExit);
  const threads: Threads = { scrub: null, viewer: null };
  try {
    // Started now so that they have loaded their modules by the time the scrub and finalize need them.
    threads.scrub = o.preset === "archive" ? null : startScrubWorker();
    threads.viewer = startViewerWorker();
    const snapshot = await stage("snapshot", () =>
      takeSnapshot({ database: o.database, workDir: staging.work }),
    );
    const db = openWorkCopy(snapshot.path);
    let work: Awaited<ReturnType<typeof transform>>;
    try {
      work = await transform(db, o, staging, stage, progress, generatedAt, threads);
    } finally {
      db.close();
    }
    // The work copy (the pre-scrub text in its free pages included) is no longer needed.
    rmSync(snapshot.path, { force: true });
    const encryption = o.encryption === null ? null : manifestEncryption(o.encryption);
    const chunked = await stage("chunk", async () => {
      const total = work.finalized.bytes;
      const source =
        o.encryption === null
          ? fileBytes(work.finalized.path)
          : await encryptedBytes(work.finalized.path, o.encryption);
      return writeChunks({
        source,
        bundleDir: staging.bundle,
        chunkSize: o.chunkSize,
        onBytes: (done) => progress("chunk")(Math.min(done, total), total),
      });
    });
    const viewer = await stage("write", async () => {
      const viewerFiles = copyViewer(o.viewerDir, staging.bundle);
      writeBundleReadme(staging.bundle, {
        preset: o.preset,
        pseudonymized: o.pseudonymKey !== null,
        encrypted: encryption !== null,
        signed: signingKey !== null,
        viewer: viewerFiles > 0,
        generatedAt,
      });
      const counts = work.finalized.counts;
      writeManifest(
        staging.bundle,
        {
          generated_at: generatedAt,
          generator: o.generator,
          database: {
            chunks: chunked.chunks,
            size: chunked.size,
            chunk_size: o.chunkSize,
            sha256: chunked.sha256,
            encrypted: encryption !== null,
          },
          encryption,
          scrub: { preset: o.preset, redactions: work.redactions },
          pseudonymized: o.pseudonymKey !== null,
          counts: {
            projects: counts.projects,
            agents: counts.agents,
            messages: counts.messages,
            attachments: counts.attachments,
          },
        },
        chunked.chunks,
      );
      return viewerFiles > 0;
    });
    if (signingKey !== null) await stage("sign", () => writeBundleSignatures(staging.bundle, signingKey));
    const files = listFiles(staging.bundle);
    const bundleBytes = files.reduce((sum, path) => sum + statSync(join(staging.bundle, path)).size, 0);
    const zipBytes = await stage("publish", async () => {
      if (!o.zip) {
        await publish(staging, staging.bundle, o.out, o);
        return null;
      }
      const zipPath = join(staging.root, "bundle.zip");
      const size = writeZip(staging.bundle, files, zipPath, {
        encrypted: encryption !== null,
        mtime: new Date(generatedAt),
      });
      await publish(staging, zipPath, o.out, o);
      return size;
    });
    const { bytes: attachmentBytes, ...attachments } = work.finalized.attachments;
    return {
      out: o.out,
      format: o.zip ? "zip" : "directory",
      scrub: o.preset,
      pseudonymized: o.pseudonymKey !== null,
      encryption,
      signed: signingKey !== null,
      viewer,
      counts: { snapshot: snapshot.counts, scoped: work.scoped, exported: work.finalized.counts },
      redactions: work.redactions,
      stages: work.details,
      attachments,
      bytes: {
        snapshot: snapshot.bytes,
        database: work.finalized.bytes,
        chunks: chunked.size,
        attachments: attachmentBytes,
        bundle: bundleBytes,
        zip: zipBytes,
      },
      chunks: chunked.chunks.length,
      timings_ms: { ...timings, total: Math.round(performance.now() - started) },
    };
  } finally {
    process.off("exit", onExit);
    await Promise.all([threads.scrub?.close(), threads.viewer?.close()]);
    await removeStaging(staging, o.out);
  }
}

/** The pipeline's worker threads (null: that stage runs on the main thread only). */
interface Threads {
  scrub: ScrubWorker | null;
  viewer: ViewerWorker | null;
}

type Stage = <T>(name: StageName, run: () => T | Promise<T>) => Promise<T>;
type Progress = (name: StageName) => (done: number, total?: number) => void;

/** The stages that rewrite the work copy: scope, scrub, pseudonymize, finalize. */
async function transform(
  db: Database.Database,
  o: ResolvedExport,
  staging: { work: string; bundle: string },
  stage: Stage,
  progress: Progress,
  generatedAt: string,
  threads: Threads,
) {
  const scoped = await stage("scope", () => {
    const result = applyScope({ db, projects: o.projects });
    inventoryAttachments(db, o.home, o.maxAttachmentBytes);
    return result;
  });
  const scrubbed = await stage("scrub", async () => {
    const result = await applyScrub({
      db,
      preset: o.preset,
      workDir: staging.work,
      onProgress: progress("scrub"),
      worker: threads.scrub,
    });
    await threads.scrub?.close();
    return result;
  });
  const key = o.pseudonymKey;
  const pseudonymized =
    key === null
      ? null
      : await stage("pseudonymize", () =>
          applyPseudonyms({ db, key, workDir: staging.work, onProgress: progress("pseudonymize") }),
        );
  const finalized = await stage("finalize", () =>
    finalizeDatabase({
      db,
      target: join(staging.work, "bundle.sqlite3"),
      bundleDir: o.encryption === null ? staging.bundle : null,
      viewerWorker: threads.viewer,
      meta: {
        generated_at: generatedAt,
        scrub_preset: o.preset,
        pseudonymized: key === null ? "0" : "1",
        encrypted: o.encryption === null ? "0" : "1",
        generator: `${o.generator.name} ${o.generator.version}`,
      },
    }),
  );
  const { counts: scopedCounts, ...scopeDetails } = scoped;
  const { redactions, preset: _preset, ...scrubDetails } = scrubbed;
  return {
    scoped: scopedCounts,
    redactions,
    finalized,
    details: { scope: scopeDetails, scrub: scrubDetails, pseudonymize: pseudonymized },
  };
}
