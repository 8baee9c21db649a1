import { describe, expect, test } from "vitest";
import {
  fetchInbox,
  listContacts,
  listFileReservations,
  listProjects,
  macroContactHandshake,
  macroFileReservationCycle,
  macroPrepareThread,
  macroStartSession,
  setContactPolicy,
} from "../../engine/index.js";
import { foreignAgent, sendId, tempMailbox, world } from "./helpers.js";

describe("macro_start_session", () => {
  test("ensures the project, registers, reserves and fetches the inbox in one call", () => {
    const { mb } = tempMailbox();
    const first = macroStartSession(mb, {
      human_key: "/work/app",
      program: "claude-code",
      model: "opus",
      task_description: "auth",
      file_reservation_paths: ["src/auth/**"],
    });
    expect(Object.keys(first).sort()).toEqual(["agent", "file_reservations", "inbox", "project"]);
    expect(first.project).toMatchObject({ slug: "work-app", human_key: "/work/app" });
    expect(first.agent.registration_token).toEqual(expect.any(String));
    expect(first.file_reservations.granted).toMatchObject([
      { path_pattern: "src/auth/**", exclusive: true, reason: "macro-session" },
    ]);
    expect(first.inbox).toEqual([]);

    // A second agent starting on overlapping files is told about the conflict.
    const second = macroStartSession(mb, {
      human_key: "/work/app/",
      program: "codex",
      model: "gpt",
      agent_name: "Otto",
      file_reservation_paths: ["src/auth/login.ts"],
    });
    expect(second.project.id).toBe(first.project.id);
    expect(second.file_reservations.conflicts[0]?.holders[0]?.agent).toBe(first.agent.name);
  });

  test("resuming a named agent keeps it and its token; no paths means no reservations", () => {
    const { mb } = tempMailbox();
    const a = macroStartSession(mb, { human_key: "/w", program: "p", model: "m", agent_name: "Ada" });
    const b = macroStartSession(mb, { human_key: "/w", program: "p2", model: "m2", agent_name: "ada" });
    expect(b.agent).toMatchObject({
      id: a.agent.id,
      name: "Ada",
      program: "p2",
      registration_token: a.agent.registration_token,
    });
    expect(b.file_reservations).toEqual({ granted: [], conflicts: [] });
  });

  test("a relative human_key is refused before anything is created", () => {
    const { mb } = tempMailbox();
    expect(() => macroStartSession(mb, { human_key: "./app", program: "p", model: "m" })).toThrow(
      /relative path/,
    );
    expect(listProjects(mb)).toEqual([]);
  });
});

describe("macro_prepare_thread", () => {
  test("joins a thread: summary as the agent sees it, plus its inbox", async () => {
    const w = world(["Alice", "Bob"]);
    const root = await sendId(w, {
      sender_name: "Alice",
      to: "Bob",
      subject: "Plan",
      body_md: "TODO: write tests\n\nCan you review?",
    });
    const result = await macroPrepareThread(w.mb, {
      project_key: w.key,
      thread_id: String(root),
      program: "p",
      model: "m",
      agent_name: "Bob",
    });
    expect(result.agent.name).toBe("Bob");
    expect(result.thread.thread_id).toBe(String(root));
    expect(result.thread.total_messages).toBe(1);
    expect(result.thread.summary.action_items.map((a) => a.text)).toContain("write tests");
    expect(result.thread.examples.length).toBeGreaterThan(0);
    expect(result.inbox.map((m) => m.id)).toEqual([root]);
  });

  test("refers to an existing project and never creates one from a slug", async () => {
    const w = world(["Alice"]);
    await expect(
      macroPrepareThread(w.mb, { project_key: "nope", thread_id: "1", program: "p", model: "m" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(listProjects(w.mb)).toHaveLength(1);
  });
});

describe("macro_file_reservation_cycle", () => {
  test("reserves, and with auto_release releases exactly what it granted", () => {
    const w = world(["Alice"]);
    const kept = macroFileReservationCycle(w.mb, {
      project_key: w.key,
      agent_name: "Alice",
      paths: ["docs/**"],
      reason: "docs",
    });
    expect(kept.released).toBeNull();
    const cycled = macroFileReservationCycle(w.mb, {
      project_key: w.key,
      agent_name: "Alice",
      paths: ["src/a.ts"],
      reason: "quick fix",
      auto_release: true,
    });
    expect(cycled.file_reservations.granted).toHaveLength(1);
    expect(cycled.released?.released).toBe(1);
    const active = listFileReservations(w.mb, { project_key: w.key }).file_reservations.map(
      (r) => r.path_pattern,
    );
    expect(active).toEqual(["docs/**"]);
  });
});

describe("macro_contact_handshake", () => {
  test("request, accept on the target's behalf, and welcome across projects", async () => {
    const w = world(["Alice"]);
    foreignAgent(w, "Xena");
    setContactPolicy(w.mb, { project_key: "srv-other", agent_name: "Xena", policy: "contacts_only" });
    const result = await macroContactHandshake(w.mb, {
      project_key: w.key,
      requester: "Alice",
      target: "Xena@srv-other",
      reason: "API change",
      auto_accept: true,
      welcome_subject: "Hello",
      welcome_body: "Glad to work with you",
    });
    expect(result.request).toMatchObject({
      from: "Alice",
      to: "Xena",
      to_project: "srv-other",
      status: "pending",
    });
    expect(result.response).toMatchObject({ approved: true });
    expect(result.welcome_message?.count).toBe(1);
    const inbox = fetchInbox(w.mb, { project_key: "srv-other", agent_name: "Xena" }).map((m) => m.subject);
    expect(inbox).toEqual(["Hello", "Contact request from Alice"]);
    expect(listContacts(w.mb, { project_key: w.key, agent_name: "Alice" })[0]?.status).toBe("approved");
  });

  test("without auto_accept the welcome waits for approval and is refused", async () => {
    const w = world(["Alice"]);
    foreignAgent(w, "Xena");
    setContactPolicy(w.mb, { project_key: "srv-other", agent_name: "Xena", policy: "contacts_only" });
    await expect(
      macroContactHandshake(w.mb, {
        project_key: w.key,
        requester: "Alice",
        target: "Xena@srv-other",
        welcome_subject: "Hi",
        welcome_body: "x",
      }),
    ).rejects.toMatchObject({ code: "CONTACT_REQUIRED" });
    const pending = await macroContactHandshake(w.mb, {
      project_key: w.key,
      requester: "Alice",
      target: "Xena@srv-other",
    });
    expect(pending).toMatchObject({ request: { status: "pending" }, response: null, welcome_message: null });
  });
});
