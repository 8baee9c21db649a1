import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureProject, fetchInbox, openMailbox, registerAgent } from "../../engine/index.js";
import { CLI, cliEnv, killAll, startServe } from "../server/cli-process.js";

/**
 * The official MCP Inspector's CLI mode (`mcp-inspector --cli`, pinned 0.15.0) against our server over
 * stdio and over Streamable HTTP: it lists the tools and calls send_message. Every inspector call is a
 * new MCP session, so identity comes from PIGEONHOLE_IDENTITY=open (stdio) or a sender_token (HTTP).
 */

const INSPECTOR = fileURLToPath(new URL("../../node_modules/.bin/mcp-inspector", import.meta.url));

let home: string;
let project: string;
let aliceToken: string;
const running = new Set<ChildProcess>();

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "ph-e2e-insp-"));
  const mb = openMailbox({ home });
  project = ensureProject(mb, { human_key: "/work/inspected" }).slug;
  aliceToken = registerAgent(mb, {
    project_key: project,
    program: "p",
    model: "m",
    name: "Alice",
  }).registration_token;
  registerAgent(mb, { project_key: project, program: "p", model: "m", name: "Bob" });
  await mb.close();
});

afterEach(async () => {
  // The inspector runs its client in a child process, which spawns our stdio server: end the whole group.
  for (const child of running) if (child.pid) process.kill(-child.pid, "SIGKILL");
  running.clear();
  await killAll();
  rmSync(home, { recursive: true, force: true });
});

/** Run `mcp-inspector --cli ...args` to completion (bounded) and parse the JSON it prints. */
async function inspect(args: string[], env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const child = spawn(INSPECTOR, ["--cli", ...args], { env: cliEnv(env), detached: true });
  running.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, "SIGKILL"), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  running.delete(child);
  expect(code, `inspector failed: ${stderr}`).toBe(0);
  return JSON.parse(stdout);
}

/**
 * The inspector's two argument parsers both own `--transport`, which our `serve` needs too; each strips
 * one `--`, so the server's own arguments go after two of them.
 */
function stdioTarget(method: string[]): string[] {
  return [process.execPath, ...method, "--", "--", CLI, "serve", "--transport", "stdio", "--home", home];
}

const SEND = (extra: string[] = []) => [
  "--method",
  "tools/call",
  "--tool-name",
  "send_message",
  "--tool-arg",
  `project_key=${project}`,
  "--tool-arg",
  "sender_name=Alice",
  "--tool-arg",
  "to=Bob",
  "--tool-arg",
  "subject=Hello from the inspector",
  "--tool-arg",
  "body_md=Sent with **mcp-inspector --cli**.",
  "--tool-arg",
  "ack_required=true",
  ...extra,
];

interface ListedTools {
  tools: { name: string; description: string; inputSchema: { type: string } }[];
}

function expectFullToolList(listed: ListedTools): void {
  const names = listed.tools.map((t) => t.name);
  expect(names).toEqual(
    expect.arrayContaining(["health_check", "register_agent", "send_message", "fetch_inbox"]),
  );
  for (const tool of listed.tools) expect(tool.inputSchema.type).toBe("object");
}

function expectSent(result: Record<string, unknown>, verified: boolean): void {
  expect(result.isError).toBeUndefined();
  expect(result.structuredContent).toMatchObject({
    count: 1,
    verified_sender: verified,
    deliveries: [
      { payload: { subject: "Hello from the inspector", from: "Alice", to: ["Bob"], ack_required: true } },
    ],
  });
}

async function bobsSubjects(): Promise<string[]> {
  const mb = openMailbox({ home });
  try {
    return fetchInbox(mb, { project_key: project, agent_name: "Bob" }).map((m) => m.subject);
  } finally {
    await mb.close();
  }
}

describe("MCP Inspector CLI", () => {
  it("lists tools and sends a message over stdio", async () => {
    expectFullToolList((await inspect(stdioTarget(["--method", "tools/list"]))) as unknown as ListedTools);
    // A fresh process per call: the open identity mode lets it act as Alice without her token.
    const sent = await inspect(["-e", "PIGEONHOLE_IDENTITY=open", ...stdioTarget(SEND())]);
    expectSent(sent, false);
    expect(await bobsSubjects()).toEqual(["Hello from the inspector"]);
  });

  it("lists tools and sends a message over Streamable HTTP, proving the sender with its token", async () => {
    const server = await startServe(["--home", home]);
    const url = `${server.url}/mcp`;
    expectFullToolList(
      (await inspect([url, "--transport", "http", "--method", "tools/list"])) as unknown as ListedTools,
    );
    const denied = await inspect([url, ...SEND()]);
    expect(denied.isError).toBe(true);
    expect(JSON.stringify(denied.structuredContent)).toContain("PERMISSION_DENIED");
    expectSent(await inspect([url, ...SEND(["--tool-arg", `sender_token=${aliceToken}`])]), true);
    expect(await bobsSubjects()).toEqual(["Hello from the inspector"]);
  });
});
