import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AgentRecord,
  ARCHIVE_README,
  agentProfilePath,
  type MessageRecord,
  messagePath,
  parseMessageFile,
  projectPath,
  renderAgent,
  renderMessage,
  renderProject,
  renderReservation,
  reservationPath,
  safeSegment,
} from "../../engine/archive/layout.js";
import { loadAgents, loadMessages } from "../../engine/archive/load.js";
import type { Mailbox } from "../../engine/mailbox.js";
import {
  addAgent,
  mailboxWithoutWriter,
  markRead,
  send,
  smallWorld,
  tempHome,
} from "./helpers/archive-data.js";

/** Every segment of a relative archive path is a plain name: nothing climbs, hides or breaks a path. */
function expectSafePath(path: string): void {
  for (const segment of path.split("/")) {
    expect(segment).not.toBe("");
    expect(segment).not.toBe(".");
    expect(segment).not.toBe("..");
    expect(segment.startsWith(".")).toBe(false);
    expect(segment).not.toMatch(/[\\/:*?"<>|\p{Cc}\p{Cf}]/u);
    expect(Array.from(segment).length).toBeLessThanOrEqual(80);
  }
}

const baseMessage: MessageRecord = {
  id: 42,
  project: "demo",
  thread_id: "T-1",
  reply_to: null,
  topic: "build",
  subject: "Build is red: please look!",
  body_md: "# Failure\n\n---\n\nA line that is just three dashes must not end the front matter.\n",
  from: "BlueLake",
  importance: "high",
  ack_required: true,
  must_read: false,
  payload: '{"run":17,"ok":false}',
  expires_ts: null,
  created_ts: "2026-03-09T10:11:12.345Z",
  attachments: [
    { sha256: "ab".repeat(32), name: "log.txt", media_type: "text/plain", bytes: 12, disposition: "file" },
  ],
  receipts: [
    { agent: "GreenCastle", kind: "to", read_ts: "2026-03-09T10:15:00.000Z", ack_ts: null },
    { agent: "RedFox", kind: "cc", read_ts: null, ack_ts: null },
    { agent: "Auditor", kind: "bcc", read_ts: null, ack_ts: null },
  ],
};

describe("archive layout", () => {
  it("places each kind of file where the README says", () => {
    expect(projectPath("demo")).toBe("projects/demo/project.json");
    expect(agentProfilePath("demo", "BlueLake")).toBe("projects/demo/agents/BlueLake/profile.json");
    expect(messagePath("demo", 42, "2026-03-09T10:11:12.345Z", "Build is red: please look!")).toBe(
      "projects/demo/messages/2026/03/42-build-is-red-please-look.md",
    );
    expect(reservationPath("demo", 7)).toBe("projects/demo/file_reservations/7.json");
  });

  it("cuts long subjects short and falls back when nothing of the subject survives", () => {
    const long = messagePath("demo", 1, "2026-01-01T00:00:00.000Z", "word ".repeat(100));
    const name = long.split("/").pop() as string;
    expect(name.length).toBeLessThanOrEqual(3 + 48 + 3);
    expect(name.startsWith("1-word-word")).toBe(true);
    expect(messagePath("demo", 9, "2026-01-01T00:00:00.000Z", "日本語 🚀")).toBe(
      "projects/demo/messages/2026/01/9-message.md",
    );
    expect(messagePath("demo", 9, "garbage", "x")).toBe("projects/demo/messages/0000/00/9-x.md");
  });

  it("neutralizes hostile names and subjects in every path segment", () => {
    const hostile = [
      "..",
      ".",
      "",
      "../../etc/passwd",
      "..\\..\\windows",
      ".git",
      ".hidden",
      "a/b",
      "name\nwith\nnewlines",
      "tab\there",
      "nul\u0000byte",
      "bidi\u202Eoverride",
      "zero\u200Bwidth",
      "CON",
      "aux.txt",
      "trailing dots...",
      "C:\\x",
      "x".repeat(500),
      "ünïcödé",
    ];
    for (const name of hostile) {
      expectSafePath(agentProfilePath(name, name));
      expectSafePath(projectPath(name));
      expectSafePath(reservationPath(name, 3));
      expectSafePath(messagePath(name, 5, "2026-01-01T00:00:00.000Z", name));
      expectSafePath(messagePath("demo", 5, `${name}-01-01`, name));
    }
    expect(safeSegment("..", "agent")).toBe("agent");
    expect(safeSegment(".git", "agent")).toBe("_.git");
    expect(safeSegment("a/../b", "agent")).toBe("a_.._b");
    expect(safeSegment("CON", "agent")).toBe("_CON");
    expect(agentProfilePath("demo", "../../../x")).toBe("projects/demo/agents/_.._.._.._x/profile.json");
  });

  it("renders a message as JSON front matter plus the body, and parses back", () => {
    const file = renderMessage(baseMessage);
    expect(file.path).toBe("projects/demo/messages/2026/03/42-build-is-red-please-look.md");
    expect(file.content.startsWith("---json\n{\n")).toBe(true);
    const parsed = parseMessageFile(file.content);
    expect(parsed).not.toBeNull();
    expect(parsed?.body).toBe(baseMessage.body_md);
    expect(parsed?.front).toEqual({
      id: 42,
      project: "demo",
      thread_id: "T-1",
      reply_to: null,
      topic: "build",
      subject: "Build is red: please look!",
      from: "BlueLake",
      to: ["GreenCastle"],
      cc: ["RedFox"],
      bcc: ["Auditor"],
      importance: "high",
      ack_required: true,
      must_read: false,
      payload: { run: 17, ok: false },
      expires_ts: null,
      created_ts: "2026-03-09T10:11:12.345Z",
      attachments: [
        {
          sha256: "ab".repeat(32),
          name: "log.txt",
          media_type: "text/plain",
          bytes: 12,
          disposition: "file",
        },
      ],
      receipts: [
        { agent: "GreenCastle", kind: "to", read_ts: "2026-03-09T10:15:00.000Z", ack_ts: null },
        { agent: "RedFox", kind: "cc", read_ts: null, ack_ts: null },
        { agent: "Auditor", kind: "bcc", read_ts: null, ack_ts: null },
      ],
    });
    // Same rows, same bytes: what makes a job safe to run twice.
    expect(renderMessage({ ...baseMessage }).content).toBe(file.content);
  });

  it("keeps a subject full of front-matter tricks inside the JSON", () => {
    const subject = '---\n"}\n---json\n{"id": 1}';
    const parsed = parseMessageFile(renderMessage({ ...baseMessage, subject, body_md: "---\n" }).content);
    expect(parsed?.front.subject).toBe(subject);
    expect(parsed?.body).toBe("---\n");
  });

  it("renders projects, agents and reservations as pretty JSON", () => {
    const project = renderProject({
      id: 1,
      slug: "demo",
      human_key: "/work/demo",
      created_at: "2026-01-01T00:00:00.000Z",
    });
    expect(JSON.parse(project.content)).toEqual({
      id: 1,
      slug: "demo",
      human_key: "/work/demo",
      created_at: "2026-01-01T00:00:00.000Z",
    });
    const agent: AgentRecord = {
      id: 2,
      name: "BlueLake",
      project: "demo",
      program: "claude-code",
      model: "opus",
      task_description: "t",
      inception_ts: "2026-01-01T00:00:00.000Z",
      attachments_policy: "auto",
      contact_policy: "auto",
      retired_ts: null,
    };
    const withToken = { ...agent, registration_token: "do-not-leak" } as AgentRecord;
    expect(renderAgent(withToken).content).not.toContain("do-not-leak");
    expect(JSON.parse(renderAgent(agent).content)).toEqual(agent);
    const reservation = renderReservation({
      id: 3,
      project: "demo",
      agent: "BlueLake",
      path_pattern: "src/**",
      exclusive: true,
      reason: "refactor",
      created_ts: "2026-01-01T00:00:00.000Z",
      expires_ts: "2026-01-01T01:00:00.000Z",
      released_ts: null,
    });
    expect(reservation.path).toBe("projects/demo/file_reservations/3.json");
    expect(JSON.parse(reservation.content).path_pattern).toBe("src/**");
  });
});

describe("README: Git archive layout", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Git archive layout"));

  it("shows a message example that parses, with exactly the front-matter fields the writer renders", () => {
    const example = /```text\n([\s\S]*?)\n```/.exec(section)?.[1];
    const parsed = parseMessageFile(`${example}\n`);
    const rendered = parseMessageFile(renderMessage(baseMessage).content);
    expect(parsed).not.toBeNull();
    expect(Object.keys(parsed?.front ?? {})).toEqual(Object.keys(rendered?.front ?? {}));
    const path = messagePath(
      "backend",
      1042,
      parsed?.front.created_ts as string,
      parsed?.front.subject as string,
    );
    expect(section).toContain(`\`${path}\``);
  });

  it("names every kind of file with the paths the layout produces", () => {
    expect(section).toContain(`\`${projectPath("backend")}\``);
    expect(section).toContain(`\`${agentProfilePath("backend", "BlueLake")}\``);
    expect(section).toContain(`\`${reservationPath("backend", 31)}\``);
    expect(ARCHIVE_README).toContain("projects/<slug>/agents/<Name>/profile.json");
  });
});

describe("archive rows from the database", () => {
  let cleanup = () => {};
  let mb: Mailbox | null = null;
  afterEach(async () => {
    await mb?.close();
    cleanup();
  });

  it("loads messages with receipts and attachments in batch, and agents without their token", async () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const projectDir = join(t.home, "repo");
    mkdirSync(projectDir);
    writeFileSync(join(projectDir, "notes.txt"), "release notes\n");
    const box = mailboxWithoutWriter(join(t.home, "mail"));
    mb = box;
    const { project, a, b } = smallWorld(box, projectDir);
    const zed = addAgent(box, project, "Zed");
    const m1 = await send(box, {
      project,
      from: a,
      to: [b],
      bcc: [zed],
      subject: "One",
      payload: { k: [1, 2] },
      attachment_paths: [join(projectDir, "notes.txt")],
    });
    const m2 = await send(box, { project, from: b, to: [zed, a], subject: "Two" });
    markRead(box, project, m2, zed, true);

    const [one, two] = loadMessages(box, [m2, m1]);
    expect(one?.id).toBe(m1);
    expect(one?.payload).toBe('{"k":[1,2]}');
    const stored = box.db
      .prepare("SELECT sha256, bytes FROM message_attachments WHERE message_id = ?")
      .get(m1);
    expect(one?.attachments).toEqual([
      expect.objectContaining({ ...(stored as object), name: "notes.txt", disposition: expect.any(String) }),
    ]);
    expect(one?.receipts.map((r) => [r.agent, r.kind])).toEqual([
      [b.name, "to"],
      ["Zed", "bcc"],
    ]);
    // Recipients in the order the sender gave them, with each one's state.
    expect(two?.receipts.map((r) => r.agent)).toEqual(["Zed", a.name]);
    expect(two?.receipts[0]?.ack_ts).toEqual(expect.any(String));
    expect(two?.receipts[1]?.read_ts).toBeNull();
    const [profile] = loadAgents(box, [zed.id]);
    expect(profile?.name).toBe("Zed");
    expect(JSON.stringify(profile)).not.toContain(zed.registration_token);
    expect(renderAgent(profile as AgentRecord).content).not.toContain("registration_token");
  });
});
