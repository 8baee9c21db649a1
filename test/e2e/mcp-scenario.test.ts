import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../engine/index.js";
import { cliEnv, killAll, startServe } from "../server/cli-process.js";
import { Coverage } from "./coverage.js";
import { closeClients, err, httpClient, ok, readJson, stdioClient } from "./harness.js";

/**
 * One realistic multi-agent session through the SDK's real Client, over real stdio (one spawned server
 * process per agent session, all sharing one mailbox directory) and over real Streamable HTTP (one
 * spawned server, one MCP session per agent). It touches every tool, resource and prompt the server
 * lists, and fails when one is added without being exercised here.
 */

const AGENT = { program: "e2e-test", model: "none" };
const TOKEN = "e2e-shared-token-0123456789abcdef";

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "ph-e2e-"));
});

afterEach(async () => {
  await closeClients();
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

/** How the scenario gets a new MCP session: a new stdio process, or a new session on an HTTP server. */
type SessionFactory = (options?: { core?: boolean }) => Promise<Client>;

function gitRepo(dir: string): string {
  mkdirSync(join(dir, "src", "api"), { recursive: true });
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" });
  git("init", "-q", "-b", "main");
  git("config", "user.email", "e2e@example.com");
  git("config", "user.name", "e2e");
  writeFileSync(join(dir, "README.md"), "# demo\n");
  git("add", "README.md");
  git("commit", "-q", "-m", "initial");
  return dir;
}

async function scenario(newSession: SessionFactory): Promise<void> {
  const coverage = new Coverage();
  const session = async (options?: { core?: boolean }) => coverage.track(await newSession(options));
  const repo = gitRepo(join(root, "repo"));
  const elsewhere = join(root, "other-service");

  // --- Identity: four agents of one project in four sessions, a fifth in another project. ---
  const alice = await session();
  const start = await ok(alice, "macro_start_session", {
    human_key: repo,
    ...AGENT,
    agent_name: "Alice",
    task_description: "API routes",
    file_reservation_paths: ["src/api/**"],
  });
  expect(start).toMatchObject({
    project: { slug: expect.any(String), human_key: repo },
    agent: { name: "Alice", task_description: "API routes", registration_token: expect.any(String) },
    file_reservations: {
      granted: [{ path_pattern: "src/api/**", exclusive: true, reason: "macro-session" }],
      conflicts: [],
    },
    inbox: [],
  });
  const slug: string = start.project.slug;
  const aliceToken: string = start.agent.registration_token;

  const bob = await session();
  expect(await ok(bob, "health_check")).toMatchObject({ status: "ok", schema_version: SCHEMA_VERSION });
  expect(await ok(bob, "ensure_project", { human_key: repo })).toEqual({
    id: start.project.id,
    slug,
    human_key: repo,
    created_at: start.project.created_at,
  });
  const bobReg = await ok(bob, "register_agent", {
    project_key: slug,
    ...AGENT,
    name: "Bob",
    task_description: "review",
  });
  expect(bobReg).toMatchObject({
    id: expect.any(Number),
    name: "Bob",
    program: AGENT.program,
    model: AGENT.model,
    task_description: "review",
    inception_ts: expect.any(String),
    last_active_ts: expect.any(String),
    project_id: start.project.id,
    attachments_policy: expect.any(String),
    registration_token: expect.any(String),
  });

  const carol = await session();
  const carolReg = await ok(carol, "create_agent_identity", {
    project_key: repo,
    ...AGENT,
    name_hint: "Carol",
  });
  expect(carolReg).toMatchObject({ name: "Carol", registration_token: expect.any(String) });

  const dave = await session();
  await ok(dave, "register_agent", { project_key: slug, ...AGENT, name: "Dave" });

  const erin = await session();
  const other = await ok(erin, "ensure_project", { human_key: elsewhere });
  const erinReg = await ok(erin, "register_agent", { project_key: other.slug, ...AGENT, name: "Erin" });

  // A session may act only as agents it registered, or with their registration token.
  const denied = await err(
    bob,
    "send_message",
    { project_key: slug, sender_name: "Alice", to: "Bob", subject: "forged", body_md: "x" },
    "PERMISSION_DENIED",
  );
  expect(denied.message).toContain("sender_token");
  await err(bob, "register_agent", { project_key: slug, ...AGENT, name: "Alice" }, "PERMISSION_DENIED");

  // --- Messaging: to/cc/bcc, ack_required, topic, thread. ---
  const sent = await ok(alice, "send_message", {
    project_key: slug,
    sender_name: "Alice",
    to: "Bob",
    cc: ["Carol"],
    bcc: "Dave",
    subject: "Plan for the API",
    body_md:
      "We decided to split the routes by resource.\n\nTODO: write the route tests\n- [ ] update the docs\n\n@Bob can you review the handlers?",
    importance: "high",
    ack_required: true,
    topic: "api",
    thread_id: "API-1",
  });
  expect(sent).toMatchObject({
    count: 1,
    verified_sender: true,
    deliveries: [
      {
        project: slug,
        payload: {
          id: expect.any(Number),
          project_id: start.project.id,
          sender_id: start.agent.id,
          thread_id: "API-1",
          subject: "Plan for the API",
          importance: "high",
          ack_required: true,
          created_ts: expect.any(String),
          attachments: [],
          body_md: expect.stringContaining("TODO"),
          from: "Alice",
          to: ["Bob"],
          cc: ["Carol"],
          bcc: ["Dave"],
        },
      },
    ],
  });
  const planId: number = sent.deliveries[0].payload.id;

  const peek = await bob.callTool({
    name: "peek_inbox",
    arguments: { project_key: slug, agent_name: "Bob" },
  });
  expect(peek.structuredContent).toMatchObject({
    unread: 1,
    urgent_unread: 1,
    ack_pending: 1,
    oldest_unread_ts: expect.any(String),
    verified_sender: true,
  });
  // The unread notice rides along as a second text block.
  expect((peek.content as { text: string }[])[1]?.text).toMatch(/^Bob: 1 unread, 1 urgent/);
  // Bob registered only himself in this session, so agent_name may be left out.
  const inbox = await ok(bob, "fetch_inbox", { project_key: slug, include_bodies: true });
  expect(inbox).toEqual([
    expect.objectContaining({
      id: planId,
      project_id: start.project.id,
      sender_id: start.agent.id,
      thread_id: "API-1",
      subject: "Plan for the API",
      importance: "high",
      ack_required: true,
      created_ts: expect.any(String),
      attachments: [],
      body_md: expect.stringContaining("@Bob"),
      from: "Alice",
      kind: "to",
    }),
  ]);
  const daveInbox = await ok(dave, "fetch_inbox", { project_key: slug, agent_name: "Dave" });
  expect(daveInbox).toEqual([expect.objectContaining({ id: planId, kind: "bcc" })]);
  expect(daveInbox[0]).not.toHaveProperty("body_md");

  expect(
    await ok(bob, "mark_message_read", { project_key: slug, agent_name: "Bob", message_id: planId }),
  ).toMatchObject({ message_id: planId, read: true, read_at: expect.any(String) });
  const acked = await ok(bob, "acknowledge_message", {
    project_key: slug,
    agent_name: "Bob",
    message_id: planId,
  });
  expect(acked).toMatchObject({
    message_id: planId,
    acknowledged: true,
    acknowledged_at: expect.any(String),
    read_at: expect.any(String),
  });
  await ok(carol, "acknowledge_message", { project_key: slug, agent_name: "Carol", message_id: planId });

  const reply = await ok(bob, "reply_message", {
    project_key: slug,
    message_id: planId,
    sender_name: "Bob",
    body_md: "Handlers look fine.\n\n- [x] review the handlers\nNEXT: merge after the tests pass",
  });
  expect(reply).toMatchObject({
    thread_id: "API-1",
    reply_to: planId,
    subject: "Re: Plan for the API",
    to: ["Alice"],
    importance: "high",
    ack_required: true,
    count: 1,
    deliveries: [expect.objectContaining({ project: slug })],
  });

  const outbox = await ok(alice, "fetch_outbox", { project_key: slug, agent_name: "Alice" });
  const plan = outbox.find((m: { id: number }) => m.id === planId);
  expect(plan.recipients).toEqual(
    expect.arrayContaining([
      { name: "Bob", kind: "to", read_ts: expect.any(String), ack_ts: expect.any(String) },
      { name: "Dave", kind: "bcc", read_ts: null, ack_ts: null },
    ]),
  );

  const topic = await ok(alice, "fetch_topic", { project_key: slug, topic_name: "api" });
  expect(JSON.stringify(topic)).toContain("Plan for the API");

  // Search: a BCC recipient sees the message; an agent of another project does not.
  const found = await ok(dave, "search_messages", { project_key: slug, query: "review", agent_name: "Dave" });
  expect(found.result).toEqual([
    expect.objectContaining({
      id: planId,
      subject: "Plan for the API",
      importance: "high",
      ack_required: true,
      thread_id: "API-1",
      from: "Alice",
      snippet: expect.stringContaining("**"),
    }),
  ]);
  await ok(erin, "register_agent", {
    project_key: slug,
    ...AGENT,
    name: "Frank",
    task_description: "newcomer",
  });
  const outsider = await ok(erin, "search_messages", {
    project_key: slug,
    query: "review",
    agent_name: "Frank",
  });
  expect(outsider.result).toEqual([]);

  const summary = await ok(alice, "summarize_thread", { project_key: slug, thread_id: "API-1" });
  expect(summary).toMatchObject({
    thread_id: "API-1",
    summary: {
      participants: expect.arrayContaining(["Alice", "Bob"]),
      total_messages: 2,
      open_actions: 3,
      done_actions: 1,
      mentions: [expect.objectContaining({ name: "Bob" })],
    },
  });
  expect(JSON.stringify(summary.summary.action_items)).toContain("write the route tests");
  const prepared = await ok(carol, "macro_prepare_thread", {
    project_key: slug,
    thread_id: "API-1",
    ...AGENT,
    agent_name: "Carol",
  });
  expect(prepared).toMatchObject({
    project: { slug },
    agent: { name: "Carol" },
    thread: { thread_id: "API-1", summary: expect.any(Object), examples: expect.any(Array) },
    inbox: [expect.objectContaining({ id: planId, kind: "cc" })],
  });

  const broadcast = await ok(alice, "send_message", {
    project_key: slug,
    sender_name: "Alice",
    to: [],
    broadcast: true,
    subject: "Standup at ten",
    body_md: "Short one today.",
  });
  expect(broadcast.deliveries[0].payload.to.sort()).toEqual(["Bob", "Carol", "Dave", "Frank"]);

  const directory = await ok(bob, "list_agents", { project_key: slug });
  expect(directory.map((a: { name: string }) => a.name).sort()).toEqual([
    "Alice",
    "Bob",
    "Carol",
    "Dave",
    "Frank",
  ]);
  expect(directory.find((a: { name: string }) => a.name === "Dave")).toMatchObject({
    unread_count: 2,
    last_active_ts: expect.any(String),
  });

  // whois: the profile, and its commits from the Git archive (empty while the archive writer catches up).
  const who = await ok(bob, "whois", { project_key: slug, agent_name: "Dave", commit_limit: 3 });
  expect(who).toMatchObject({ name: "Dave", program: expect.any(String), recent_commits: expect.any(Array) });
  expect(who).not.toHaveProperty("registration_token");

  // The same agent from a new session (a restarted client) proves itself with its registration token.
  const aliceAgain = await session();
  const checkIn = {
    project_key: slug,
    sender_name: "Alice",
    to: "Bob",
    subject: "Back",
    body_md: "Restarted.",
  };
  await err(aliceAgain, "send_message", checkIn, "PERMISSION_DENIED");
  const resent = await ok(aliceAgain, "send_message", { ...checkIn, sender_token: aliceToken });
  expect(resent.verified_sender).toBe(true);
  expect((await ok(aliceAgain, "peek_inbox", { project_key: slug, agent_name: "Alice" })).unread).toBe(1);

  // --- Contacts ---
  expect(
    await ok(dave, "set_contact_policy", { project_key: slug, agent_name: "Dave", policy: "contacts_only" }),
  ).toEqual(expect.objectContaining({ agent: "Dave", policy: "contacts_only" }));
  const toDave = {
    project_key: slug,
    sender_name: "Carol",
    to: "Dave",
    subject: "Docs",
    body_md: "Can you help?",
  };
  await err(carol, "send_message", toDave, "CONTACT_REQUIRED");
  expect(
    await ok(carol, "request_contact", {
      project_key: slug,
      from_agent: "Carol",
      to_agent: "Dave",
      reason: "docs review",
    }),
  ).toMatchObject({ from: "Carol", from_project: slug, to: "Dave", to_project: slug, status: "pending" });
  const contacts = await ok(dave, "list_contacts", { project_key: slug, agent_name: "Dave" });
  expect(JSON.stringify(contacts)).toContain("Carol");
  expect(
    await ok(dave, "respond_contact", {
      project_key: slug,
      to_agent: "Dave",
      from_agent: "Carol",
      accept: true,
    }),
  ).toMatchObject({ from: "Carol", to: "Dave", approved: true, expires_ts: expect.any(String) });
  await ok(carol, "send_message", toDave);

  const handshake = await ok(alice, "macro_contact_handshake", {
    project_key: slug,
    requester: "Alice",
    target: "Erin",
    to_project: other.slug,
    reason: "shared client library",
    auto_accept: true,
    target_token: erinReg.registration_token,
    welcome_subject: "Hello from the API team",
    welcome_body: "We will send you route changes.",
  });
  expect(handshake).toMatchObject({
    request: { from: "Alice", to: "Erin", status: "pending" },
    response: { approved: true },
    welcome_message: expect.any(Object),
  });
  const erinInbox = await ok(erin, "fetch_inbox", { project_key: other.slug, agent_name: "Erin" });
  expect(erinInbox.map((m: { subject: string }) => m.subject)).toContain("Hello from the API team");

  // --- File reservations and the pre-commit guard ---
  const bobReserve = await ok(bob, "file_reservation_paths", {
    project_key: slug,
    agent_name: "Bob",
    paths: ["src/api/routes.ts"],
    reason: "fix a handler",
  });
  expect(bobReserve).toMatchObject({
    granted: [
      {
        id: expect.any(Number),
        path_pattern: "src/api/routes.ts",
        exclusive: true,
        reason: "fix a handler",
        expires_ts: expect.any(String),
      },
    ],
    conflicts: [{ path: "src/api/routes.ts", holders: [expect.objectContaining({ agent: "Alice" })] }],
  });
  const renewed = await ok(bob, "renew_file_reservations", {
    project_key: slug,
    agent_name: "Bob",
    extend_seconds: 600,
  });
  expect(renewed).toMatchObject({
    renewed: 1,
    file_reservations: [
      {
        id: bobReserve.granted[0].id,
        path_pattern: "src/api/routes.ts",
        old_expires_ts: bobReserve.granted[0].expires_ts,
        new_expires_ts: expect.any(String),
      },
    ],
  });
  const listed = await ok(dave, "list_file_reservations", { project_key: slug });
  expect(JSON.stringify(listed)).toContain("src/api/routes.ts");

  // Force release: refused while the holder is active, accepted once the holder is retired.
  const carolDocs = await ok(carol, "file_reservation_paths", {
    project_key: slug,
    agent_name: "Carol",
    paths: ["docs/**"],
  });
  const docsId: number = carolDocs.granted[0].id;
  const force = { project_key: slug, agent_name: "Bob", file_reservation_id: docsId, note: "Carol left" };
  await err(bob, "force_release_file_reservation", force, "CONFLICT");
  await ok(carol, "retire_agent", { project_key: slug, agent_name: "Carol" });
  expect(await ok(bob, "force_release_file_reservation", force)).toMatchObject({
    released: true,
    grounds: "holder retired",
  });
  await ok(carol, "unretire_agent", { project_key: slug, agent_name: "Carol" });

  const cycle = await ok(dave, "macro_file_reservation_cycle", {
    project_key: slug,
    agent_name: "Dave",
    paths: ["lib/**"],
    auto_release: true,
  });
  expect(cycle).toMatchObject({
    file_reservations: { granted: [{ path_pattern: "lib/**" }] },
    released: expect.anything(),
  });

  const installed = await ok(alice, "install_precommit_guard", { project_key: slug, code_repo_path: repo });
  expect(installed).toMatchObject({ installed: true, hook_path: expect.stringContaining("pre-commit") });
  writeFileSync(join(repo, "src", "api", "routes.ts"), "export {};\n");
  execFileSync("git", ["add", "src/api/routes.ts"], { cwd: repo });
  const commit = spawnSync("git", ["commit", "-q", "-m", "routes"], {
    cwd: repo,
    env: { ...process.env, PIGEONHOLE_AGENT: "Dave" },
    encoding: "utf8",
  });
  expect(commit.status).not.toBe(0);
  expect(commit.stdout + commit.stderr).toContain("Alice");
  expect(await ok(alice, "uninstall_precommit_guard", { code_repo_path: repo })).toMatchObject({
    removed: true,
  });

  expect(await ok(bob, "release_file_reservations", { project_key: slug, agent_name: "Bob" })).toMatchObject({
    released: 1,
    released_at: expect.any(String),
  });

  // --- Resources: every template, read by the agent it belongs to. ---
  const inboxRes = await readJson(bob, `resource://inbox/Bob?project=${slug}&include_bodies=true&limit=5`);
  expect(JSON.stringify(inboxRes)).toContain("Plan for the API");
  expect(JSON.stringify(await readJson(alice, "resource://outbox/Alice"))).toContain("Standup at ten");
  expect(await readJson(bob, `resource://message/${planId}?project=${slug}`)).toMatchObject({
    id: planId,
    body_md: expect.stringContaining("TODO"),
  });
  expect(
    JSON.stringify(await readJson(bob, `resource://thread/API-1?project=${slug}&include_bodies=true`)),
  ).toContain("Handlers look fine");
  expect(JSON.stringify(await readJson(carol, `resource://agents/${slug}`))).toContain("Dave");
  expect(await readJson(carol, `resource://project/${slug}`)).toMatchObject({ slug, human_key: repo });
  expect(JSON.stringify(await readJson(carol, "resource://projects"))).toContain(other.slug);
  expect(
    JSON.stringify(await readJson(carol, `resource://file_reservations/${slug}?active_only=false`)),
  ).toContain("docs/**");
  expect(await readJson(alice, "resource://views/urgent-unread/Alice")).toEqual([
    expect.objectContaining({ subject: "Re: Plan for the API" }),
  ]);
  // Dave has acknowledged neither the plan nor Carol's contact request (both ask for it).
  const pendingAcks = (await readJson(dave, "resource://views/ack-required/Dave")) as { subject: string }[];
  expect(pendingAcks.map((m) => m.subject).sort()).toEqual([
    "Contact request from Carol",
    "Plan for the API",
  ]);
  expect(await readJson(bob, "resource://tooling/metrics")).toMatchObject({ health: { status: "ok" } });
  // Reading another agent's mailbox from a session that is not bound to it is refused.
  await expect(carol.readResource({ uri: "resource://inbox/Bob" })).rejects.toThrow(/not bound to Bob/);

  // --- Prompts, completion and logging ---
  const { prompts } = await carol.listPrompts();
  for (const prompt of prompts) {
    const args = Object.fromEntries(
      (prompt.arguments ?? []).map((a) => [a.name, a.name === "project" ? repo : "Carol"]),
    );
    const got = await carol.getPrompt({ name: prompt.name, arguments: args });
    expect(got.messages[0]?.content).toMatchObject({ type: "text", text: expect.stringContaining(repo) });
  }
  const agentNames = await carol.complete({
    ref: { type: "ref/prompt", name: "start_session" },
    argument: { name: "agent_name", value: "da" },
    context: { arguments: { project: slug } },
  });
  expect(agentNames.completion).toMatchObject({ values: ["Dave"], total: 1, hasMore: false });
  const templates = await carol.complete({
    ref: { type: "ref/resource", uri: "resource://file_reservations/{slug}{?active_only}" },
    argument: { name: "slug", value: other.slug.slice(0, 3) },
  });
  expect(templates.completion.values).toContain(other.slug);
  expect(await carol.setLoggingLevel("warning")).toEqual({});

  // --- The core profile: a small tools/list, with two meta-tools that reach every other tool. ---
  const core = await session({ core: true });
  const coreNames = (await core.listTools()).tools.map((t) => t.name);
  expect(coreNames).toEqual(
    expect.arrayContaining(["send_message", "list_extended_tools", "call_extended_tool"]),
  );
  expect(coreNames).not.toContain("fetch_outbox");
  const extended = await ok(core, "list_extended_tools");
  expect(extended.tools.map((t: { name: string }) => t.name)).toContain("fetch_outbox");
  expect(extended.tools.find((t: { name: string }) => t.name === "fetch_outbox")).toMatchObject({
    description: expect.any(String),
    input_schema: { type: "object", properties: expect.objectContaining({ agent_name: expect.any(Object) }) },
  });
  const viaMeta = await ok(core, "call_extended_tool", {
    tool_name: "fetch_outbox",
    arguments: { project_key: slug, agent_name: "Alice", agent_token: aliceToken },
  });
  expect(viaMeta).toEqual(await ok(alice, "fetch_outbox", { project_key: slug, agent_name: "Alice" }));
  expect(JSON.stringify(viaMeta)).toContain("Plan for the API");

  // --- Everything the server offers was exercised. ---
  const full = await session();
  const listedTools = (await full.listTools()).tools.map((t) => t.name);
  const every = [...new Set([...listedTools, ...coreNames])];
  const untested = "listed by the server but never called successfully in this scenario";
  expect(
    every.filter((name) => !coverage.tools.has(name)),
    `tools ${untested}`,
  ).toEqual([]);
  const listedResources = [
    ...(await full.listResources()).resources.map((r) => r.name),
    ...(await full.listResourceTemplates()).resourceTemplates.map((t) => t.name),
  ];
  expect(listedResources.length).toBeGreaterThan(0);
  expect(
    listedResources.filter((name) => !coverage.resources.has(name)),
    `resources ${untested}`,
  ).toEqual([]);
  expect(prompts.length).toBeGreaterThan(0);
  expect(
    prompts.map((p) => p.name).filter((name) => !coverage.prompts.has(name)),
    `prompts ${untested}`,
  ).toEqual([]);
}

describe("multi-agent scenario through the SDK client", () => {
  it("over stdio: one spawned server process per agent session, sharing one mailbox", async () => {
    const home = join(root, "mailbox");
    await scenario((options) => stdioClient(home, options?.core ? ["--tools", "core"] : []));
  });

  it("over Streamable HTTP with a bearer token: one spawned server, one MCP session per agent", async () => {
    const home = join(root, "mailbox");
    // Authentication on, and every client sends the header the README's client configurations send.
    const env = cliEnv({ PIGEONHOLE_TOKEN: TOKEN });
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const full = await startServe(["--home", home], env);
    await expect(httpClient(full.url)).rejects.toThrow(/401|UNAUTHENTICATED/);
    let core: Promise<{ url: string }> | undefined;
    await scenario(async (options) => {
      if (!options?.core) return httpClient(full.url, auth);
      core ??= startServe(["--home", home, "--tools", "core"], env);
      return httpClient((await core).url, auth);
    });
  });
});
