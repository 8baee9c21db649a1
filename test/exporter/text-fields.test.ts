import { join } from "node:path";
import type Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openWorkCopy, takeSnapshot } from "../../exporter/pipeline/snapshot.js";
import { assertTextColumnsKnown, rewriteTextFields } from "../../exporter/pipeline/text-fields.js";
import { sampleMailbox, tempDir } from "./helpers.js";

/** The text walker: every free-text column is visited, and an unknown text column stops the export. */

async function workCopy(): Promise<Database.Database> {
  const sample = await sampleMailbox();
  const snapshot = await takeSnapshot({ database: join(sample.home, "mailbox.sqlite3"), workDir: tempDir() });
  const db = openWorkCopy(snapshot.path);
  return db;
}

describe("text fields", () => {
  it("visits every value of every listed column and writes back only changes", async () => {
    const db = await workCopy();
    try {
      const seen: string[] = [];
      const stats = await rewriteTextFields(db, (texts) => {
        seen.push(...texts);
        return texts.map((t) => t.replaceAll("Zanzibar", "Z"));
      });
      expect(seen).toContain("Parser refactor plan");
      expect(seen).toContain("owner");
      expect(seen).toContain("Rewriting the tokenizer");
      expect(stats.values).toBe(seen.length);
      expect(stats.rows_changed).toBeGreaterThan(0);
      const payload = db.prepare("SELECT payload FROM messages WHERE payload LIKE '%owner%'").pluck().get();
      expect(JSON.parse(payload as string)).toEqual({ files: ["src/parser.ts"], owner: "Z" });
      expect(db.prepare("SELECT COUNT(*) FROM agents WHERE name = 'Z'").pluck().get()).toBe(1);
    } finally {
      db.close();
    }
  });

  it("refuses a text column it does not know (a schema change must say how to scrub it)", async () => {
    const db = await workCopy();
    try {
      db.exec("ALTER TABLE messages ADD COLUMN summary TEXT");
      expect(() => assertTextColumnsKnown(db)).toThrow(/messages\.summary/);
      await expect(rewriteTextFields(db, (t) => [...t])).rejects.toMatchObject({ code: "INTERNAL" });
    } finally {
      db.close();
    }
  });
});
