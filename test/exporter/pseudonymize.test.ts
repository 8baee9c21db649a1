import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { exportBundle } from "../../exporter/export.js";
import { nameReplacer, pseudonymMap } from "../../exporter/pipeline/pseudonymize.js";
import {
  bundleFiles,
  databaseBytes,
  filesContaining,
  openBetterSqlite,
  type SampleMailbox,
  sampleMailbox,
  tempDir,
} from "./helpers.js";

let sample: SampleMailbox;

beforeAll(async () => {
  sample = await sampleMailbox(true);
});

/** Every spelling of a name a reader could search for. */
function spellings(name: string): string[] {
  return [name, name.toLowerCase(), name.toUpperCase()];
}

describe("pseudonymization", () => {
  for (const zip of [false, true]) {
    it(`leaves no original agent name anywhere in the bundle's bytes${zip ? " (zip unpacked)" : ""}`, async () => {
      const dir = tempDir();
      const out = join(dir, zip ? "bundle.zip" : "bundle");
      // archive: nothing else rewrites the text, so only pseudonymization stands between names and the bundle.
      const summary = await exportBundle({
        home: sample.home,
        out,
        scrub: "archive",
        pseudonymize: true,
        zip,
        viewerDir: null,
      });
      expect(summary.pseudonymized).toBe(true);
      const files = bundleFiles(out);
      for (const name of sample.names) {
        for (const spelling of spellings(name))
          expect(filesContaining(files, spelling), spelling).toEqual([]);
      }
    });
  }

  it("maps every name consistently: agents, senders and text agree", async () => {
    const out = join(tempDir(), "bundle");
    await exportBundle({ home: sample.home, out, pseudonymize: true, viewerDir: null });
    const db = openBetterSqlite(await databaseBytes(out));
    const agents = db.prepare("SELECT id, name, task_description FROM agents ORDER BY id").all() as {
      id: number;
      name: string;
      task_description: string;
    }[];
    expect(agents.map((a) => a.name).every((n) => /^Agent-[0-9a-f]{8}$/.test(n))).toBe(true);
    expect(new Set(agents.map((a) => a.name)).size).toBe(agents.length);
    const first = agents[0]!;
    expect(first.task_description).toBe(`${first.name} works on the parser`);
    const body = db
      .prepare("SELECT body_md FROM messages WHERE id = ?")
      .pluck()
      .get(sample.appMessages[0]) as string;
    expect(body).toBe(`${agents[1]!.name}, the tokenizer needs a rewrite. ${agents[2]!.name} please review.`);
    const payload = JSON.parse(
      db.prepare("SELECT payload FROM messages WHERE id = ?").pluck().get(sample.appMessages[0]) as string,
    );
    expect(payload.owner).toBe(first.name);
    const sender = db
      .prepare("SELECT a.name FROM messages m JOIN agents a ON a.id = m.sender_id WHERE m.id = ?")
      .pluck()
      .get(sample.appMessages[0]);
    expect(sender).toBe(first.name);
    const notes = db
      .prepare("SELECT path FROM message_attachments WHERE filename = 'notes.md'")
      .pluck()
      .get() as string;
    const files = bundleFiles(out);
    expect(Buffer.from(files.get(notes)!).toString("utf8")).toContain(`${first.name} wrote the parser`);
  });

  it("is stable across exports with --pseudonym-key, and differs without it", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "key");
    writeFileSync(keyFile, "a-secret-of-at-least-sixteen-bytes\n");
    const names = async (options: { pseudonymKeyFile?: string }) => {
      const out = join(tempDir(), "bundle");
      await exportBundle({ home: sample.home, out, pseudonymize: true, viewerDir: null, ...options });
      return openBetterSqlite(await databaseBytes(out))
        .prepare("SELECT name FROM agents ORDER BY id")
        .pluck()
        .all();
    };
    const a = await names({ pseudonymKeyFile: keyFile });
    const b = await names({ pseudonymKeyFile: keyFile });
    const c = await names({});
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it("refuses a short key file and a key without --pseudonymize", async () => {
    const dir = tempDir();
    const keyFile = join(dir, "key");
    writeFileSync(keyFile, "short\n");
    const out = join(dir, "bundle");
    await expect(
      exportBundle({ home: sample.home, out, pseudonymize: true, pseudonymKeyFile: keyFile }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(exportBundle({ home: sample.home, out, pseudonymKeyFile: keyFile })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });
});

describe("name replacement", () => {
  const key = new TextEncoder().encode("0123456789abcdef");
  const map = pseudonymMap(key, ["Bob", "Bob-2", "Alice", "agent"]);
  const replace = nameReplacer(map);
  const p = (name: string) => map.get(name.toLowerCase())!;

  it("replaces whole words, case-insensitively; longer names win", () => {
    expect(replace("bob, @Bob and BOB's src/bob/x.ts")).toBe(
      `${p("bob")}, @${p("bob")} and ${p("bob")}'s src/${p("bob")}/x.ts`,
    );
    expect(replace("Bob-2 and Bob-3")).toBe(`${p("bob-2")} and ${p("bob")}-3`);
    expect(replace("Bobby and bob_x stay")).toBe("Bobby and bob_x stay");
  });

  it("never produces a name: the prefix avoids agent names, and markers are kept", () => {
    expect([...map.values()].every((v) => v.startsWith("Anon-"))).toBe(true);
    expect(replace("[REDACTED:agent-token] agent")).toBe(`[REDACTED:agent-token] ${p("agent")}`);
    expect(replace(replace("Alice"))).toBe(p("alice"));
  });

  it("is a function of the key and the name only", () => {
    const again = pseudonymMap(key, ["Alice", "Zed"]);
    expect(again.get("alice")).toBe(p("alice").replace("Anon-", "Agent-"));
  });
});
