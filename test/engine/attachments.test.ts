import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerAgent } from "../../engine/agents.js";
import { isPigeonholeError } from "../../engine/errors.js";
import { LIMITS } from "../../engine/limits.js";
import type { Mailbox } from "../../engine/mailbox.js";
import {
  attachmentsFor,
  blobRelativePath,
  insertAttachments,
  type PreparedAttachment,
  prepareAttachments,
} from "../../engine/messages/attachments.js";
import { loadMessageView, type SendMessageInput, sendMessage } from "../../engine/messages/send.js";
import { openMailbox } from "../../engine/open.js";
import { ensureProject, type Project } from "../../engine/projects.js";

let tmp: string;
let home: string;
let projectDir: string;
let outside: string;
let mb: Mailbox;
let project: Project;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "pigeonhole-attach-"));
  home = join(tmp, "home");
  projectDir = join(tmp, "project");
  outside = join(tmp, "outside");
  await mkdir(projectDir);
  await mkdir(outside);
  mb = openMailbox({ home, archive: false });
  project = ensureProject(mb, { human_key: projectDir });
});

afterEach(async () => {
  await mb.close();
  await rm(tmp, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function smallPng(): Promise<Buffer> {
  return sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .png()
    .toBuffer();
}

/** Random pixels: incompressible, so the WebP stays far above the inline threshold. */
async function noisyPng(): Promise<Buffer> {
  const width = 400;
  const height = 300;
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Expect `promise` to reject with a PigeonholeError of `code` whose message matches `pattern`. */
async function expectError(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isPigeonholeError(error), `expected a PigeonholeError, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  expect((error as Error).message).toMatch(pattern);
}

function blobFiles(): string[] {
  const root = join(home, "attachments");
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}

/** A minimal agent and message row, so attachment rows have a message to belong to. */
function insertMessage(subject: string): number {
  return mb.write(() => {
    const now = mb.now();
    let agent = mb.statement<{ id: number }>("SELECT id FROM agents WHERE name = 'BlueLake'").get();
    if (!agent) {
      const info = mb
        .statement(
          `INSERT INTO agents (project_id, name, program, model, inception_ts, last_active_ts, registration_token)
           VALUES (?, 'BlueLake', 'test', 'test', ?, ?, 'token')`,
        )
        .run(project.id, now, now);
      agent = { id: Number(info.lastInsertRowid) };
    }
    const info = mb
      .statement(
        "INSERT INTO messages (project_id, sender_id, subject, body_md, created_ts) VALUES (?, ?, ?, '', ?)",
      )
      .run(project.id, agent.id, subject, now);
    return Number(info.lastInsertRowid);
  });
}

describe("prepareAttachments: conversion and storage", () => {
  it("returns nothing for no paths", async () => {
    expect(await prepareAttachments(mb, project, [])).toEqual([]);
  });

  it("inlines a small PNG as WebP without writing a blob", async () => {
    await writeFile(join(projectDir, "dot.png"), await smallPng());
    const [a] = await prepareAttachments(mb, project, [join(projectDir, "dot.png")]);
    expect(a).toMatchObject({ filename: "dot.png", media_type: "image/webp", disposition: "inline" });
    const webp = Buffer.from(a?.data_base64 ?? "", "base64");
    expect(a?.bytes).toBe(webp.length);
    expect(a?.sha256).toBe(sha256(webp));
    const meta = await sharp(webp).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 32, 24]);
    expect(blobFiles()).toEqual([]);
  });

  it("stores a large image as a WebP blob named by its sha256", async () => {
    await writeFile(join(projectDir, "noise.png"), await noisyPng());
    const [a] = await prepareAttachments(mb, project, [join(projectDir, "noise.png")]);
    expect(a).toMatchObject({ media_type: "image/webp", disposition: "file", data_base64: null });
    expect(a?.bytes).toBeGreaterThan(LIMITS.inlineImageBytes);
    const sha = a?.sha256 ?? "";
    const blobPath = join(home, "attachments", sha.slice(0, 2), `${sha}.webp`);
    expect(blobRelativePath(sha, "image/webp")).toBe(`attachments/${sha.slice(0, 2)}/${sha}.webp`);
    const blob = await readFile(blobPath);
    expect(sha256(blob)).toBe(sha);
    expect(blob.length).toBe(a?.bytes);
    const meta = await sharp(blob).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["webp", 400, 300]);
    expect(blobFiles()).toEqual([`${sha}.webp`]);
  });

  it("keeps every frame of an animated GIF", async () => {
    const frames = await Promise.all(
      [0, 1, 2].map((i) =>
        sharp({ create: { width: 20, height: 10, channels: 3, background: { r: i * 100, g: 0, b: 0 } } })
          .png()
          .toBuffer(),
      ),
    );
    const gif = await sharp(frames, { join: { animated: true } })
      .gif({ delay: [100, 100, 100] })
      .toBuffer();
    await writeFile(join(projectDir, "spin.gif"), gif);
    const [a] = await prepareAttachments(mb, project, ["spin.gif"]);
    expect(a).toMatchObject({ media_type: "image/webp", disposition: "inline" });
    const meta = await sharp(Buffer.from(a?.data_base64 ?? "", "base64"), { animated: true }).metadata();
    expect([meta.format, meta.pages, meta.pageHeight, meta.width]).toEqual(["webp", 3, 10, 20]);
  });

  it("stores a text file unchanged as text/plain, and .md as text/markdown", async () => {
    const text = "build failed at step 3\n";
    await writeFile(join(projectDir, "log.txt"), text);
    await writeFile(join(projectDir, "notes.md"), "# Notes\n");
    const [txt, md] = await prepareAttachments(mb, project, ["log.txt", "notes.md"]);
    expect(txt).toMatchObject({
      filename: "log.txt",
      media_type: "text/plain",
      disposition: "file",
      bytes: text.length,
      sha256: sha256(Buffer.from(text)),
      data_base64: null,
    });
    const sha = txt?.sha256 ?? "";
    expect(await readFile(join(home, "attachments", sha.slice(0, 2), `${sha}.txt`), "utf8")).toBe(text);
    expect(md?.media_type).toBe("text/markdown");
  });

  it("detects the type from the content, not the name", async () => {
    await writeFile(join(projectDir, "data.txt"), Buffer.from([0x00, 0xff, 0x10, 0x80]));
    await writeFile(join(projectDir, "report"), Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "latin1"));
    const [bin, pdf] = await prepareAttachments(mb, project, ["data.txt", "report"]);
    expect(bin?.media_type).toBe("application/octet-stream");
    expect(pdf?.media_type).toBe("application/pdf");
    expect(blobFiles().sort()).toEqual([`${bin?.sha256}.bin`, `${pdf?.sha256}.pdf`].sort());
  });

  it("stores the same content once (dedup)", async () => {
    await writeFile(join(projectDir, "a.txt"), "same bytes");
    await writeFile(join(projectDir, "b.txt"), "same bytes");
    const first = await prepareAttachments(mb, project, ["a.txt", "b.txt"]);
    const again = await prepareAttachments(mb, project, [join(projectDir, "a.txt")]);
    expect(new Set([...first, ...again].map((a) => a.sha256)).size).toBe(1);
    expect(first.map((a) => a.filename)).toEqual(["a.txt", "b.txt"]);
    expect(blobFiles()).toEqual([`${first[0]?.sha256}.txt`]);
  });

  it("stores a corrupt PNG as it is instead of failing", async () => {
    const corrupt = Buffer.concat([(await smallPng()).subarray(0, 8), Buffer.from("not really a png")]);
    await writeFile(join(projectDir, "broken.png"), corrupt);
    const [a] = await prepareAttachments(mb, project, ["broken.png"]);
    expect(a).toMatchObject({
      media_type: "image/png",
      disposition: "file",
      bytes: corrupt.length,
      sha256: sha256(corrupt),
    });
    const sha = a?.sha256 ?? "";
    expect(await readFile(join(home, "attachments", sha.slice(0, 2), `${sha}.png`))).toEqual(corrupt);
  });

  it("never converts or inlines SVG", async () => {
    const svg =
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
    await writeFile(join(projectDir, "icon.xml"), svg);
    const [a] = await prepareAttachments(mb, project, ["icon.xml"]);
    expect(a).toMatchObject({ media_type: "image/svg+xml", disposition: "file", data_base64: null });
    expect(a?.sha256).toBe(sha256(Buffer.from(svg)));
    expect(blobFiles()).toEqual([`${a?.sha256}.svg`]);
  });

  it("names the attachment by the sanitized basename of the given path", async () => {
    const name = "we\u202Eird\tname.txt";
    await writeFile(join(projectDir, name), "x");
    const [a] = await prepareAttachments(mb, project, [name]);
    expect(a?.filename).toBe("weirdname.txt");
  });
});

describe("prepareAttachments: which paths are allowed", () => {
  it("resolves a relative path against the project directory", async () => {
    await mkdir(join(projectDir, "logs"));
    await writeFile(join(projectDir, "logs", "run.txt"), "ok");
    const [a] = await prepareAttachments(mb, project, ["logs/run.txt"]);
    expect(a?.filename).toBe("run.txt");
  });

  it("refuses a relative path that escapes with ..", async () => {
    await writeFile(join(outside, "secret.txt"), "secret");
    await expectError(
      prepareAttachments(mb, project, ["../outside/secret.txt"]),
      "INVALID_ARGUMENT",
      /"\.\.\/outside\/secret\.txt" escapes the project directory/,
    );
  });

  it("refuses an absolute path outside the project and the roots, naming what is allowed", async () => {
    await writeFile(join(outside, "secret.txt"), "secret");
    await expectError(
      prepareAttachments(mb, project, [join(outside, "secret.txt")]),
      "INVALID_ARGUMENT",
      new RegExp(`outside the directories attachments may come from; allowed: ${projectDir}`),
    );
  });

  it("refuses an absolute path that climbs out with ..", async () => {
    await writeFile(join(outside, "secret.txt"), "secret");
    await expectError(
      prepareAttachments(mb, project, [`${projectDir}/../outside/secret.txt`]),
      "INVALID_ARGUMENT",
      /outside the directories/,
    );
  });

  it("refuses a symbolic link that points outside", async () => {
    await writeFile(join(outside, "secret.txt"), "secret");
    await symlink(join(outside, "secret.txt"), join(projectDir, "innocent.txt"));
    await symlink(outside, join(projectDir, "linkdir"));
    for (const path of ["innocent.txt", "linkdir/secret.txt"]) {
      await expectError(prepareAttachments(mb, project, [path]), "INVALID_ARGUMENT", /symbolic link/);
    }
    expect(blobFiles()).toEqual([]);
  });

  it("follows a symbolic link that stays inside", async () => {
    await writeFile(join(projectDir, "real.txt"), "inside");
    await symlink(join(projectDir, "real.txt"), join(projectDir, "alias.txt"));
    const [a] = await prepareAttachments(mb, project, ["alias.txt"]);
    expect(a).toMatchObject({ filename: "alias.txt", sha256: sha256(Buffer.from("inside")) });
  });

  it("allows files under a configured attachment root", async () => {
    await writeFile(join(outside, "shared.txt"), "shared");
    const rooted = openMailbox({ home, archive: false, attachmentRoots: [outside] });
    try {
      const [a] = await prepareAttachments(rooted, project, [join(outside, "shared.txt")]);
      expect(a?.media_type).toBe("text/plain");
      // A root does not make relative paths resolve against it.
      await expectError(
        prepareAttachments(rooted, project, ["../outside/shared.txt"]),
        "INVALID_ARGUMENT",
        /escapes/,
      );
    } finally {
      await rooted.close();
    }
  });

  it("refuses relative paths when the project has no directory", async () => {
    const named = ensureProject(mb, { human_key: "plain-name" });
    await expectError(
      prepareAttachments(mb, named, ["notes.txt"]),
      "INVALID_ARGUMENT",
      /"notes\.txt" is relative, but project "plain-name" has no directory.*no attachmentRoots/,
    );
    await writeFile(join(outside, "x.txt"), "x");
    await expectError(
      prepareAttachments(mb, named, [join(outside, "x.txt")]),
      "INVALID_ARGUMENT",
      /allows none/,
    );
  });

  it("reports a missing file as NOT_FOUND", async () => {
    await expectError(
      prepareAttachments(mb, project, ["nope.txt"]),
      "NOT_FOUND",
      /"nope\.txt" does not exist/,
    );
  });

  it("refuses a directory", async () => {
    await mkdir(join(projectDir, "dir"));
    await expectError(prepareAttachments(mb, project, ["dir"]), "INVALID_ARGUMENT", /"dir" is a directory/);
  });

  it("refuses a FIFO", async () => {
    execFileSync("mkfifo", [join(projectDir, "pipe")]);
    await expectError(prepareAttachments(mb, project, ["pipe"]), "INVALID_ARGUMENT", /not a regular file/);
  });

  it("refuses NUL bytes and empty paths", async () => {
    await expectError(prepareAttachments(mb, project, ["a\0b.txt"]), "INVALID_ARGUMENT", /NUL byte/);
    await expectError(prepareAttachments(mb, project, [""]), "INVALID_ARGUMENT", /empty paths/);
  });

  it("refuses a file over the size limit", async () => {
    const big = join(projectDir, "big.bin");
    await writeFile(big, "");
    await truncate(big, LIMITS.attachmentBytes + 1);
    await expectError(
      prepareAttachments(mb, project, ["big.bin"]),
      "TOO_LARGE",
      new RegExp(
        `"big\\.bin" is ${LIMITS.attachmentBytes + 1} bytes; the limit is ${LIMITS.attachmentBytes}`,
      ),
    );
  });

  it("refuses more attachments than the per-message limit", async () => {
    const paths = Array.from({ length: LIMITS.attachmentsPerMessage + 1 }, (_, i) => `f${i}.txt`);
    await expectError(
      prepareAttachments(mb, project, paths),
      "TOO_LARGE",
      new RegExp(`at most ${LIMITS.attachmentsPerMessage} per message`),
    );
  });

  it("checks every path before storing anything", async () => {
    await writeFile(join(projectDir, "good.txt"), "good");
    await expectError(prepareAttachments(mb, project, ["good.txt", "missing.txt"]), "NOT_FOUND", /missing/);
    expect(blobFiles()).toEqual([]);
  });
});

describe("insertAttachments and attachmentsFor", () => {
  it("returns views in ordinal order, with a blob path or a data URI", async () => {
    await writeFile(join(projectDir, "dot.png"), await smallPng());
    await writeFile(join(projectDir, "log.txt"), "log");
    await writeFile(join(projectDir, "noise.png"), await noisyPng());
    const prepared = await prepareAttachments(mb, project, ["log.txt", "dot.png", "noise.png"]);
    const withFiles = insertMessage("with files");
    const plain = insertMessage("no files");
    mb.write(() => insertAttachments(mb, withFiles, prepared));

    const views = attachmentsFor(mb, [plain, withFiles]);
    expect(views.has(plain)).toBe(false);
    const list = views.get(withFiles) ?? [];
    expect(list.map((v) => v.name)).toEqual(["log.txt", "dot.png", "noise.png"]);
    const [log, dot, noise] = list as [(typeof list)[0], (typeof list)[0], (typeof list)[0]];
    const shaOf = (a: PreparedAttachment | undefined) => a?.sha256 ?? "";
    expect(log).toEqual({
      type: "file",
      name: "log.txt",
      media_type: "text/plain",
      bytes: 3,
      sha256: shaOf(prepared[0]),
      path: blobRelativePath(shaOf(prepared[0]), "text/plain"),
    });
    expect(existsSync(join(home, log.path ?? ""))).toBe(true);
    expect(dot.type).toBe("inline");
    expect(dot.path).toBeUndefined();
    expect(dot.data_uri).toBe(`data:image/webp;base64,${prepared[1]?.data_base64}`);
    expect(noise).toMatchObject({ type: "file", media_type: "image/webp" });
    expect(noise.path).toMatch(/^attachments\/[0-9a-f]{2}\/[0-9a-f]{64}\.webp$/);
    expect(existsSync(join(home, noise.path ?? ""))).toBe(true);
    expect(attachmentsFor(mb, [])).toEqual(new Map());
  });
});

describe("send_message result", () => {
  it("is exactly the message as loaded back for its sender, attachments and all", async () => {
    await writeFile(join(projectDir, "dot.png"), await smallPng());
    await writeFile(join(projectDir, "log.txt"), "log");
    await writeFile(join(projectDir, "noise.png"), await noisyPng());
    for (const name of ["Ann", "Ben", "Cal", "Dee"]) {
      registerAgent(mb, { project_key: project.slug, program: "p", model: "m", name });
    }
    const sends: SendMessageInput[] = [
      { project_key: project.slug, sender_name: "ann", to: "Ben", subject: "Plain", body_md: "hi" },
      {
        project_key: project.slug,
        sender_name: "Ann",
        to: ["Ben", "cal"],
        cc: "Dee",
        bcc: ["Cal"],
        subject: "Everything",
        body_md: "**body**",
        attachment_paths: ["log.txt", "dot.png", "noise.png"],
        importance: "high",
        thread_id: "T-1",
        topic: "build",
        payload: { n: 1, list: [true, null], nested: { s: "x" } },
        ttl_seconds: 60,
      },
      {
        project_key: project.slug,
        sender_name: "Dee",
        to: "Ann",
        bcc: ["Ben", "Cal"],
        subject: "Must read",
        body_md: "x",
        must_read: true,
        ttl_seconds: 60,
        payload: [],
      },
    ];
    for (const input of sends) {
      const result = await sendMessage(mb, input);
      const payload = result.deliveries[0]?.payload;
      const loaded = loadMessageView(mb, payload?.id ?? 0, payload?.from ?? "");
      // Same fields, values and key order: clients see the JSON.
      expect(JSON.stringify(payload)).toBe(JSON.stringify(loaded));
    }
  });
});
