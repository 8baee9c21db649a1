import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ensureProject,
  fileReservationPaths,
  openMailbox,
  registerAgent,
  requestContact,
  sendMessage,
  setContactPolicy,
} from "../../engine/index.js";
import { exportBundle } from "../../exporter/export.js";
import { secretlintRedact } from "../../exporter/pipeline/secretlint.js";
import { RedactionCounts, redactSecrets } from "../../exporter/pipeline/secrets.js";
import { fitsTopic, SECRET_KINDS, SECRETS_CORPUS } from "../../fixtures/secrets-corpus.js";
import { bundleFiles, databaseBytes, openBetterSqlite, readManifest, tempDir } from "./helpers.js";

/**
 * The secrets corpus planted in every text field the engine stores, then exported: no byte of any
 * bundle file may contain any secret, under `standard` and `strict`, as a directory and as a zip.
 */

interface Planted {
  home: string;
  tokens: string[];
}

let planted: Planted;

/** Names that are themselves secrets (agent names allow `[A-Za-z0-9._-]`): two GitHub tokens collide once redacted. */
const SECRET_NAMES = SECRETS_CORPUS.filter((s) => /^gh[po]_/.test(s.secret)).map((s) => s.secret);

async function plantEverywhere(root: string): Promise<Planted> {
  const home = join(root, "home");
  const repo = join(root, "repo");
  mkdirSync(repo, { recursive: true });
  const all = SECRETS_CORPUS.map((s) => s.text).join("\n\n");
  writeFileSync(join(repo, "credentials.md"), `# Credentials dump\n\n${all}\n`);
  writeFileSync(join(repo, "config.json"), JSON.stringify({ keys: SECRETS_CORPUS.map((s) => s.text) }));
  writeFileSync(join(repo, `${SECRET_NAMES[0]}.txt`), "file named after a token\n");
  // Binary (NUL bytes) holding a secret: cannot be rewritten, so it must be withheld.
  writeFileSync(
    join(repo, "dump.bin"),
    Buffer.concat([Buffer.from([0, 1, 2, 0]), Buffer.from(SECRETS_CORPUS[0]!.secret), Buffer.from([0])]),
  );
  const mb = openMailbox({ home, archive: false });
  const tokens: string[] = [];
  try {
    const project = ensureProject(mb, { human_key: repo });
    const key = project.slug;
    const vault = registerAgent(mb, { project_key: key, program: "p", model: "m", name: "Vault" });
    setContactPolicy(mb, { project_key: key, agent_name: "Vault", policy: "open" });
    tokens.push(vault.registration_token);
    for (const name of SECRET_NAMES) {
      tokens.push(registerAgent(mb, { project_key: key, program: "p", model: "m", name }).registration_token);
    }
    for (const [i, s] of SECRETS_CORPUS.entries()) {
      const name = `Keeper${i}`;
      const short = (limit: number, fallback: string) =>
        s.text.length + 6 <= limit ? `tool ${s.text}` : fallback;
      tokens.push(
        registerAgent(mb, {
          project_key: key,
          name,
          program: short(200, "claude-code"),
          model: short(200, "opus"),
          task_description: `Rotate this credential: ${s.text}`,
        }).registration_token,
      );
      await sendMessage(mb, {
        project_key: key,
        sender_name: name,
        to: ["Vault"],
        subject: `Leaked ${s.text}`,
        body_md: `Found this in the logs:\n\n\`\`\`\n${s.text}\n\`\`\`\n\nPlease rotate.`,
        payload: { credential: s.text, nested: [{ value: s.text }], [s.text]: "as a key" },
        ...(fitsTopic(s.text) ? { topic: s.text } : {}),
        ...(s.text.length <= 256 && !s.text.includes(",") ? { thread_id: s.text } : {}),
      });
      fileReservationPaths(mb, {
        project_key: key,
        agent_name: name,
        paths: [`src/keeper${i}/**`],
        reason: `rotating ${s.text}`.slice(0, 1000),
      });
      if (i % 5 === 0) {
        await requestContact(mb, {
          project_key: key,
          from_agent: name,
          to_agent: "Vault",
          reason: `about ${s.text}`,
        });
      }
    }
    await sendMessage(mb, {
      project_key: key,
      sender_name: "Vault",
      to: ["Keeper0"],
      subject: "Everything in one place",
      body_md: all,
      attachment_paths: ["credentials.md", "config.json", `${SECRET_NAMES[0]}.txt`, "dump.bin"],
    });
  } finally {
    await mb.close();
  }
  return { home, tokens };
}

/** Every (file, secret) pair where the secret occurs in the file. */
function leaks(files: Map<string, Uint8Array>, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const [path, bytes] of files) {
    const buffer = Buffer.from(bytes);
    for (const secret of secrets) {
      if (buffer.includes(Buffer.from(secret))) found.push(`${path}: ${secret.slice(0, 12)}...`);
    }
  }
  return found;
}

describe("secrets corpus", () => {
  beforeAll(async () => {
    planted = await plantEverywhere(tempDir("ph-secrets-", true));
  });

  it("has at least 40 secrets of at least 20 kinds", () => {
    expect(SECRETS_CORPUS.length).toBeGreaterThanOrEqual(40);
    expect(SECRET_KINDS.length).toBeGreaterThanOrEqual(20);
  });

  it("each secret is caught on its own by the two passes together", async () => {
    for (const s of SECRETS_CORPUS) {
      const counts = new RedactionCounts();
      const [out] = await secretlintRedact([redactSecrets(`before ${s.text} after`, counts)], counts);
      expect(out, s.kind).not.toContain(s.secret);
      expect(out, s.kind).toMatch(/\[REDACTED:[a-z0-9-]+\]/);
      expect(out, s.kind).toMatch(/^before /);
    }
  });

  for (const scrub of ["standard", "strict"] as const) {
    for (const zip of [false, true]) {
      it(`${scrub}${zip ? " zip" : ""}: no byte of any bundle file holds a secret or a registration token`, async () => {
        const out = join(tempDir(), zip ? "bundle.zip" : "bundle");
        const summary = await exportBundle({ home: planted.home, out, scrub, zip, viewerDir: null });
        const files = bundleFiles(out);
        expect(files.size).toBeGreaterThan(3);
        expect(
          leaks(
            files,
            SECRETS_CORPUS.map((s) => s.secret),
          ),
        ).toEqual([]);
        expect(leaks(files, planted.tokens)).toEqual([]);
        expect(Object.keys(summary.redactions).length).toBeGreaterThanOrEqual(20);
        expect(Object.keys(summary.redactions).some((rule) => rule.startsWith("secretlint-"))).toBe(true);
        const manifest = JSON.parse(Buffer.from(files.get("manifest.json")!).toString("utf8"));
        expect(manifest.scrub).toEqual({ preset: scrub, redactions: summary.redactions });
        if (scrub === "standard") {
          expect(summary.attachments.withheld).toBe(1);
          expect(summary.attachments.file).toBe(3);
        } else {
          expect(summary.counts.exported.attachments).toBe(0);
        }
      });
    }
  }

  it("standard keeps the text around each secret, with markers in every field", async () => {
    const out = join(tempDir(), "bundle");
    await exportBundle({ home: planted.home, out, viewerDir: null });
    const db = openBetterSqlite(await databaseBytes(out));
    const subject = db
      .prepare("SELECT subject FROM messages WHERE subject LIKE 'Leaked %' LIMIT 1")
      .pluck()
      .get();
    expect(subject).toMatch(/^Leaked \[REDACTED:[a-z0-9-]+\]$/);
    const names = db
      .prepare("SELECT name FROM agents WHERE name LIKE '[REDACTED:%'")
      .pluck()
      .all() as string[];
    expect(names).toHaveLength(SECRET_NAMES.length);
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(names.length);
    const payload = JSON.parse(
      db.prepare("SELECT payload FROM messages WHERE payload IS NOT NULL LIMIT 1").pluck().get() as string,
    );
    expect(payload.credential).toMatch(/\[REDACTED:/);
    for (const [table, column] of [
      ["agents", "task_description"],
      ["file_reservations", "reason"],
      ["agent_links", "reason"],
      ["messages", "thread_id"],
      ["messages", "topic"],
    ]) {
      const n = db.prepare(`SELECT COUNT(*) FROM ${table} WHERE ${column} LIKE '%[REDACTED:%'`).pluck().get();
      expect(n, `${table}.${column}`).toBeGreaterThan(0);
    }
    const columns = (db.prepare("PRAGMA table_info(agents)").all() as { name: string }[]).map((c) => c.name);
    expect(columns).not.toContain("registration_token");
  });

  it("archive is lossless except for registration tokens", async () => {
    const out = join(tempDir(), "bundle");
    const summary = await exportBundle({ home: planted.home, out, scrub: "archive", viewerDir: null });
    expect(summary.redactions).toEqual({});
    const files = bundleFiles(out);
    expect(leaks(files, planted.tokens)).toEqual([]);
    expect(leaks(files, [SECRETS_CORPUS[3]!.secret]).length).toBeGreaterThan(0);
    expect(readManifest(out).scrub).toEqual({ preset: "archive", redactions: {} });
  });
});

describe("secret patterns", () => {
  const redact = (text: string) => redactSecrets(text, new RedactionCounts());

  it("keeps labels and the rest of the text", () => {
    expect(redact("password=hunter2hunter2 ok")).toBe("password=[REDACTED:password-assignment] ok");
    expect(redact("curl -H 'Authorization: Bearer abcdefghijklmnop1234'")).toBe(
      "curl -H 'Authorization: Bearer [REDACTED:bearer-token]'",
    );
    expect(redact("git clone https://bot:s3cretpassword@git.example.com/x.git")).toBe(
      "git clone https://[REDACTED:url-credentials]@git.example.com/x.git",
    );
  });

  it("leaves ordinary prose, hashes and URLs alone", () => {
    for (const text of [
      "The tests pass; see https://example.com/docs?page=2 and commit 3f9a1c02d4e5f60718293a4b5c6d7e8f90a1b2c3.",
      "Set the password field to required in the form.",
      "task-list and sk-learn are fine; so is AKIA without digits.",
    ]) {
      expect(redact(text)).toBe(text);
    }
  });

  it("a secretlint-disable comment does not hide a secret from the second pass", async () => {
    const token = SECRETS_CORPUS.find((s) => s.kind === "sendgrid-key")!.secret;
    const [out] = await secretlintRedact([`<!-- secretlint-disable -->\n${token}\n`], new RedactionCounts());
    expect(out).not.toContain(token);
  });

  it("secretlint leaves no performance marks behind (its process-wide profiler would keep every one)", async () => {
    performance.clearMarks();
    const token = SECRETS_CORPUS.find((s) => s.kind === "sendgrid-key")!.secret;
    const [out] = await secretlintRedact([`key ${token}`, "nothing here"], new RedactionCounts());
    expect(out).not.toContain(token);
    await new Promise((resolve) => setImmediate(resolve));
    expect(performance.getEntriesByType("mark")).toEqual([]);
  });

  it("the prefilter is case-blind, as the rules are", () => {
    const counts = new RedactionCounts();
    expect(redactSecrets("Authorization: BEARER abcdefghijklmnopqrstuvwx", counts)).toBe(
      "Authorization: BEARER [REDACTED:bearer-token]",
    );
    expect(redactSecrets("PASSWORD=hunter2hunter2", counts)).toBe("PASSWORD=[REDACTED:password-assignment]");
  });

  it("counts per rule", () => {
    const counts = new RedactionCounts();
    redactSecrets(`${SECRETS_CORPUS[0]!.secret} and ${SECRETS_CORPUS[1]!.secret}`, counts);
    expect(counts.toJSON()).toEqual({ "github-token": 2 });
  });
});
