import { describe, expect, test } from "vitest";
import {
  AGENT_NAME_PATTERN,
  createAgentIdentity,
  ensureProject,
  generateAgentName,
  getAgentProfile,
  listAgents,
  markMessageRead,
  NAME_COMBINATIONS,
  registerAgent,
  retireAgent,
  unretireAgent,
} from "../../engine/index.js";
import { countRows, expectFail, expectReject, send, sendId, tempMailbox, world } from "./helpers.js";

const GENERATED = /^[A-Z][a-z]+[A-Z][a-z]+$/;

describe("register_agent", () => {
  test("returns the documented fields, with the registration token", () => {
    const { mb, clock } = tempMailbox();
    const p = ensureProject(mb, { human_key: "/repo" });
    const a = registerAgent(mb, {
      project_key: p.slug,
      program: "claude-code",
      model: "opus",
      name: "Alice",
      task_description: "refactor",
    });
    for (const field of [
      "id",
      "name",
      "program",
      "model",
      "task_description",
      "inception_ts",
      "last_active_ts",
      "project_id",
      "attachments_policy",
      "registration_token",
    ]) {
      expect(a).toHaveProperty(field);
    }
    expect(a).toMatchObject({
      name: "Alice",
      program: "claude-code",
      model: "opus",
      task_description: "refactor",
      inception_ts: clock.iso(),
      last_active_ts: clock.iso(),
      project_id: p.id,
      retired_ts: null,
    });
    expect(a.registration_token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  test("task_description defaults to empty", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/repo" });
    expect(registerAgent(mb, { project_key: "/repo", program: "p", model: "m" }).task_description).toBe("");
  });

  test("without a name, generates an AdjectiveNoun name", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/repo" });
    const a = registerAgent(mb, { project_key: "/repo", program: "p", model: "m" });
    expect(a.name).toMatch(GENERATED);
    expect(a.name).toMatch(AGENT_NAME_PATTERN);
  });

  test("names up to 128 characters of the allowed alphabet are accepted", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/repo" });
    for (const name of ["a", "7", "Agent_7.build-x", `A${"b".repeat(127)}`]) {
      expect(registerAgent(mb, { project_key: "/repo", program: "p", model: "m", name }).name).toBe(name);
    }
  });

  test.each(["", "-dash", ".dot", "_under", "has space", "with@at", "slash/name", "émile"])(
    "refuses the malformed name %j, naming the field",
    (name) => {
      const { mb } = tempMailbox();
      ensureProject(mb, { human_key: "/repo" });
      const error = expectFail(
        () => registerAgent(mb, { project_key: "/repo", program: "p", model: "m", name }),
        "INVALID_ARGUMENT",
      );
      expect(error.message).toMatch(/name/);
      expect(countRows(mb, "agents")).toBe(0);
    },
  );

  test("refuses a 129-character name with TOO_LARGE", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/repo" });
    const error = expectFail(
      () => registerAgent(mb, { project_key: "/repo", program: "p", model: "m", name: "a".repeat(129) }),
      "TOO_LARGE",
    );
    expect(error.message).toMatch(/name/);
  });

  test("an existing name in another case updates that agent and keeps its token and inception", () => {
    const { mb, clock } = tempMailbox();
    ensureProject(mb, { human_key: "/repo" });
    const first = registerAgent(mb, { project_key: "/repo", program: "p1", model: "m1", name: "Alice" });
    clock.advance(300);
    const again = registerAgent(mb, {
      project_key: "/repo",
      program: "p2",
      model: "m2",
      name: "alice",
      task_description: "new task",
    });
    expect(again).toMatchObject({
      id: first.id,
      name: "Alice",
      program: "p2",
      model: "m2",
      task_description: "new task",
      inception_ts: first.inception_ts,
      last_active_ts: clock.iso(),
      registration_token: first.registration_token,
    });
    expect(countRows(mb, "agents")).toBe(1);
  });

  test("a name held in another project (any case) is a CONFLICT naming that project", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/one" });
    ensureProject(mb, { human_key: "/two" });
    registerAgent(mb, { project_key: "/one", program: "p", model: "m", name: "Alice" });
    const error = expectFail(
      () => registerAgent(mb, { project_key: "/two", program: "p", model: "m", name: "ALICE" }),
      "CONFLICT",
    );
    expect(error.message).toMatch(/one/);
    expect(error.data).toMatchObject({ name: "Alice", project: "one", requested_project: "two" });
    expect(countRows(mb, "agents")).toBe(1);
  });

  test("an unknown project is NOT_FOUND with the ensure_project hint", () => {
    const { mb } = tempMailbox();
    const error = expectFail(
      () => registerAgent(mb, { project_key: "/nowhere", program: "p", model: "m" }),
      "NOT_FOUND",
    );
    expect(error.message).toMatch(/ensure_project/);
  });

  test("300 generated names in one project are all distinct and valid", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/crowd" });
    const names = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const a = registerAgent(mb, { project_key: "/crowd", program: "p", model: "m" });
      expect(a.name).toMatch(AGENT_NAME_PATTERN);
      names.add(a.name.toLowerCase());
    }
    expect(names.size).toBe(300);
    expect(countRows(mb, "agents")).toBe(300);
  });
});

describe("generated names", () => {
  test("there are thousands of AdjectiveNoun combinations", () => {
    expect(NAME_COMBINATIONS).toBeGreaterThanOrEqual(9000);
  });

  test("a deterministic random source gives a deterministic name", () => {
    expect(generateAgentName(() => 0)).toBe(generateAgentName(() => 0));
    expect(generateAgentName(() => 0)).toMatch(GENERATED);
  });
});

describe("create_agent_identity", () => {
  test("uses a free name_hint as is", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/repo" });
    const a = createAgentIdentity(mb, { project_key: "/repo", program: "p", model: "m", name_hint: "Scout" });
    expect(a.name).toBe("Scout");
    expect(a.registration_token).toBeTruthy();
  });

  test("always creates a new agent: a taken hint (any case) gets a free variant", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/repo" });
    const first = createAgentIdentity(mb, {
      project_key: "/repo",
      program: "p",
      model: "m",
      name_hint: "Scout",
    });
    const second = createAgentIdentity(mb, {
      project_key: "/repo",
      program: "p",
      model: "m",
      name_hint: "scout",
    });
    const third = createAgentIdentity(mb, {
      project_key: "/repo",
      program: "p",
      model: "m",
      name_hint: "Scout",
    });
    expect(new Set([first.id, second.id, third.id]).size).toBe(3);
    expect(new Set([first.name, second.name, third.name].map((n) => n.toLowerCase())).size).toBe(3);
    expect(second.name.toLowerCase()).toMatch(/^scout\d+$/);
    expect(second.registration_token).not.toBe(first.registration_token);
  });

  test("a taken 128-character hint still yields a valid name", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/repo" });
    const hint = `A${"x".repeat(127)}`;
    createAgentIdentity(mb, { project_key: "/repo", program: "p", model: "m", name_hint: hint });
    const b = createAgentIdentity(mb, { project_key: "/repo", program: "p", model: "m", name_hint: hint });
    expect(b.name).toMatch(AGENT_NAME_PATTERN);
    expect(b.name).not.toBe(hint);
  });

  test("a hint taken in another project also gets a variant (names are unique everywhere)", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/one" });
    const two = ensureProject(mb, { human_key: "/two" });
    registerAgent(mb, { project_key: "/one", program: "p", model: "m", name: "Scout" });
    const b = createAgentIdentity(mb, { project_key: "/two", program: "p", model: "m", name_hint: "Scout" });
    expect(b.name).not.toBe("Scout");
    expect(b.project_id).toBe(two.id);
  });

  test("without a hint, generates a name", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/repo" });
    expect(createAgentIdentity(mb, { project_key: "/repo", program: "p", model: "m" }).name).toMatch(
      GENERATED,
    );
  });

  test("refuses a malformed hint", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/repo" });
    const error = expectFail(
      () =>
        createAgentIdentity(mb, { project_key: "/repo", program: "p", model: "m", name_hint: "bad name" }),
      "INVALID_ARGUMENT",
    );
    expect(error.message).toMatch(/name_hint/);
  });
});

describe("profiles and secrets", () => {
  test("getAgentProfile finds any case and never returns the token", () => {
    const w = world(["Alice"]);
    const profile = getAgentProfile(w.mb, { project_key: w.key, agent_name: "ALICE" });
    expect(profile.name).toBe("Alice");
    expect(profile.project_slug).toBe(w.key);
    expect(profile).not.toHaveProperty("registration_token");
  });

  test("list_agents, retire_agent and unretire_agent never return the token", () => {
    const w = world(["Alice", "Bob"]);
    for (const a of listAgents(w.mb, { project_key: w.key }).agents)
      expect(a).not.toHaveProperty("registration_token");
    expect(retireAgent(w.mb, { project_key: w.key, agent_name: "Bob" })).not.toHaveProperty(
      "registration_token",
    );
    expect(unretireAgent(w.mb, { project_key: w.key, agent_name: "Bob" })).not.toHaveProperty(
      "registration_token",
    );
  });

  test("an unknown agent is NOT_FOUND listing the known ones", () => {
    const w = world(["Alice", "Bob"]);
    const error = expectFail(
      () => getAgentProfile(w.mb, { project_key: w.key, agent_name: "Zed" }),
      "NOT_FOUND",
    );
    expect(error.message).toMatch(/Alice, Bob/);
    expect(error.message).toMatch(/register_agent/);
  });

  test("an agent of another project is NOT_FOUND with the Name@project hint", () => {
    const w = world(["Alice"]);
    ensureProject(w.mb, { human_key: "/other" });
    registerAgent(w.mb, { project_key: "other", program: "p", model: "m", name: "Olga" });
    const error = expectFail(
      () => getAgentProfile(w.mb, { project_key: w.key, agent_name: "olga" }),
      "NOT_FOUND",
    );
    expect(error.message).toMatch(/Olga@other/);
  });
});

describe("list_agents", () => {
  test("lists the project's agents by name with presence and unread counts", async () => {
    const w = world(["Carol", "alice", "Bob"]);
    ensureProject(w.mb, { human_key: "/other" });
    registerAgent(w.mb, { project_key: "other", program: "p", model: "m", name: "Olga" });
    await send(w, { sender_name: "alice", to: ["Bob", "Carol"] });
    await send(w, { sender_name: "Carol", to: "Bob" });
    const { project, agents } = listAgents(w.mb, { project_key: w.key });
    expect(project.id).toBe(w.project.id);
    expect(agents.map((a) => a.name)).toEqual(["alice", "Bob", "Carol"]);
    expect(Object.fromEntries(agents.map((a) => [a.name, a.unread_count]))).toEqual({
      alice: 0,
      Bob: 2,
      Carol: 1,
    });
    for (const a of agents) expect(a.last_active_ts).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  test("unread_count drops when mail is read", async () => {
    const w = world(["Alice", "Bob"]);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    await send(w, { sender_name: "Alice", to: "Bob" });
    markMessageRead(w.mb, { project_key: w.key, agent_name: "Bob", message_id: id });
    const bob = listAgents(w.mb, { project_key: w.key }).agents.find((a) => a.name === "Bob");
    expect(bob?.unread_count).toBe(1);
  });

  test("unread_count leaves out expired mail", async () => {
    const w = world(["Alice", "Bob"]);
    await send(w, { sender_name: "Alice", to: "Bob", ttl_seconds: 60 });
    w.clock.advance(61);
    const bob = listAgents(w.mb, { project_key: w.key }).agents.find((a) => a.name === "Bob");
    expect(bob?.unread_count).toBe(0);
  });

  test("active_only leaves out retired agents", () => {
    const w = world(["Alice", "Bob"]);
    retireAgent(w.mb, { project_key: w.key, agent_name: "Bob" });
    expect(listAgents(w.mb, { project_key: w.key }).agents.map((a) => a.name)).toEqual(["Alice", "Bob"]);
    expect(listAgents(w.mb, { project_key: w.key, active_only: true }).agents.map((a) => a.name)).toEqual([
      "Alice",
    ]);
  });

  test("last_active_ts moves when the agent sends and when it reads", async () => {
    const w = world(["Alice", "Bob"]);
    const start = w.clock.iso();
    const lastActive = (name: string) =>
      listAgents(w.mb, { project_key: w.key }).agents.find((a) => a.name === name)?.last_active_ts;
    w.clock.advance(10);
    const id = await sendId(w, { sender_name: "Alice", to: "Bob" });
    const sentAt = w.clock.iso();
    expect(lastActive("Alice")).toBe(sentAt);
    expect(lastActive("Bob")).toBe(start);
    w.clock.advance(10);
    markMessageRead(w.mb, { project_key: w.key, agent_name: "Bob", message_id: id });
    expect(lastActive("Bob")).toBe(w.clock.iso());
    expect(lastActive("Alice")).toBe(sentAt);
  });

  test("a send less than a second after the last activity leaves last_active_ts as it was", async () => {
    const w = world(["Alice", "Bob"]);
    const lastActive = () =>
      listAgents(w.mb, { project_key: w.key }).agents.find((a) => a.name === "Alice")?.last_active_ts;
    w.clock.advance(5);
    await sendId(w, { sender_name: "Alice", to: "Bob" });
    const first = w.clock.iso();
    w.clock.advance(0.999);
    await sendId(w, { sender_name: "Alice", to: "Bob" });
    expect(lastActive()).toBe(first);
    w.clock.advance(0.001);
    await sendId(w, { sender_name: "Alice", to: "Bob" });
    expect(lastActive()).toBe(w.clock.iso());
    // A clock set back is not "under a second old": the time is written.
    w.clock.advance(-30);
    await sendId(w, { sender_name: "Alice", to: "Bob" });
    expect(lastActive()).toBe(w.clock.iso());
  });

  test("an empty project lists no agents", () => {
    const { mb } = tempMailbox();
    ensureProject(mb, { human_key: "/empty" });
    expect(listAgents(mb, { project_key: "empty" }).agents).toEqual([]);
  });
});

describe("retire_agent / unretire_agent", () => {
  test("retire sets retired_ts once; repeating it keeps the first time", () => {
    const w = world(["Alice"]);
    const first = retireAgent(w.mb, { project_key: w.key, agent_name: "alice" });
    expect(first.retired_ts).toBe(w.clock.iso());
    w.clock.advance(60);
    expect(retireAgent(w.mb, { project_key: w.key, agent_name: "Alice" }).retired_ts).toBe(first.retired_ts);
  });

  test("unretire clears retired_ts and is idempotent", () => {
    const w = world(["Alice"]);
    expect(unretireAgent(w.mb, { project_key: w.key, agent_name: "Alice" }).retired_ts).toBeNull();
    retireAgent(w.mb, { project_key: w.key, agent_name: "Alice" });
    expect(unretireAgent(w.mb, { project_key: w.key, agent_name: "Alice" }).retired_ts).toBeNull();
    expect(unretireAgent(w.mb, { project_key: w.key, agent_name: "Alice" }).retired_ts).toBeNull();
  });

  test("a retired agent receives no new mail (AGENT_RETIRED) and nothing is stored", async () => {
    const w = world(["Alice", "Bob", "Carol"]);
    retireAgent(w.mb, { project_key: w.key, agent_name: "Bob" });
    const error = await expectReject(
      () => send(w, { sender_name: "Alice", to: ["Carol", "Bob"] }),
      "AGENT_RETIRED",
    );
    expect(error.message).toMatch(/unretire_agent/);
    expect(error.data).toMatchObject({ agent_name: "Bob" });
    await expectReject(() => send(w, { sender_name: "Alice", to: "Carol", cc: "Bob" }), "AGENT_RETIRED");
    await expectReject(() => send(w, { sender_name: "Alice", to: "Carol", bcc: "Bob" }), "AGENT_RETIRED");
    expect(countRows(w.mb, "messages")).toBe(0);
  });

  test("a retired agent cannot send", async () => {
    const w = world(["Alice", "Bob"]);
    retireAgent(w.mb, { project_key: w.key, agent_name: "Alice" });
    await expectReject(() => send(w, { sender_name: "Alice", to: "Bob" }), "AGENT_RETIRED");
  });

  test("after unretire the agent sends and receives again", async () => {
    const w = world(["Alice", "Bob"]);
    retireAgent(w.mb, { project_key: w.key, agent_name: "Bob" });
    unretireAgent(w.mb, { project_key: w.key, agent_name: "Bob" });
    expect((await send(w, { sender_name: "Alice", to: "Bob" })).count).toBe(1);
    expect((await send(w, { sender_name: "Bob", to: "Alice" })).count).toBe(1);
  });

  test("broadcast skips retired agents", async () => {
    const w = world(["Alice", "Bob", "Carol", "Dave"]);
    retireAgent(w.mb, { project_key: w.key, agent_name: "Carol" });
    const result = await send(w, { sender_name: "Alice", broadcast: true });
    expect(result.deliveries[0]!.payload.to).toEqual(["Bob", "Dave"]);
  });

  test("retiring an unknown agent is NOT_FOUND", () => {
    const w = world(["Alice"]);
    expectFail(() => retireAgent(w.mb, { project_key: w.key, agent_name: "Nobody" }), "NOT_FOUND");
    expectFail(() => unretireAgent(w.mb, { project_key: w.key, agent_name: "Nobody" }), "NOT_FOUND");
  });
});
