import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../exporter/export.js";
import { databaseBytes, openBetterSqlite, type SampleMailbox, sampleMailbox, tempDir } from "./helpers.js";

let sample: SampleMailbox;

beforeAll(async () => {
  sample = await sampleMailbox(true);
});

async function exportScoped(projects: string[]) {
  const out = join(tempDir(), "bundle");
  const summary = await exportBundle({ home: sample.home, out, projects, scrub: "archive", viewerDir: null });
  return { summary, db: openBetterSqlite(await databaseBytes(out)) };
}

describe("scope", () => {
  it("keeps only the chosen project's mail, and the foreign agents it talks to", async () => {
    const { summary, db } = await exportScoped([sample.appSlug]);
    const ids = db.prepare("SELECT id FROM messages ORDER BY id").pluck().all();
    expect(ids).toEqual(sample.appMessages);
    const agents = db.prepare("SELECT name FROM agents ORDER BY name").pluck().all();
    // Oberon received cross-project mail from app; Titania only ever mailed in the other project.
    expect(agents).toEqual(["Marmaduke", "Oberon", "Quillfeather", "Zanzibar"]);
    const projects = db
      .prepare(
        "SELECT p.slug, p.human_key, v.in_scope FROM projects p JOIN viewer_projects v ON v.project_id = p.id ORDER BY p.id",
      )
      .all();
    expect(projects).toEqual([
      { slug: sample.appSlug, human_key: sample.appDir, in_scope: 1 },
      { slug: sample.otherSlug, human_key: sample.otherSlug, in_scope: 0 },
    ]);
    const reservations = db.prepare("SELECT path_pattern FROM file_reservations").pluck().all();
    expect(reservations).toEqual(["src/parser/**"]);
    expect(db.prepare("SELECT COUNT(*) FROM agent_links").pluck().get()).toBe(1);
    expect(db.pragma("foreign_key_check")).toEqual([]);
    expect(summary.counts.snapshot.messages).toBe(6);
    expect(summary.counts.scoped.messages).toBe(sample.appMessages.length);
    expect(summary.counts.exported).toEqual(summary.counts.scoped);
  });

  it("accepts a human key as well as a slug, and several projects", async () => {
    const { db } = await exportScoped(["/srv/other-project"]);
    expect(db.prepare("SELECT id FROM messages").pluck().all()).toEqual(sample.otherMessages);
    expect(db.prepare("SELECT name FROM agents ORDER BY name").pluck().all()).toEqual(["Oberon", "Titania"]);
    const both = await exportScoped([sample.appDir, sample.otherSlug]);
    expect(both.db.prepare("SELECT COUNT(*) FROM messages").pluck().get()).toBe(6);
    expect(both.db.prepare("SELECT COUNT(*) FROM viewer_projects WHERE in_scope = 1").pluck().get()).toBe(2);
  });

  it("refuses an unknown project, naming the known ones, and publishes nothing", async () => {
    const out = join(tempDir(), "bundle");
    const error = await exportBundle({ home: sample.home, out, projects: ["nope"], viewerDir: null }).catch(
      (e) => e,
    );
    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain(sample.appSlug);
  });
});
