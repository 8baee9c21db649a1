import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureProject, openMailbox, registerAgent } from "../../engine/index.js";
import { CLI, type CliRun, cliEnv, killAll, runCli, type ServeProcess, startServe } from "./cli-process.js";

/**
 * The client commands (send, inbox, peek, agents) as a user runs them: the built CLI as a child process,
 * against a local mailbox (`--home`) and against a spawned `pigeonhole serve` (`--url`).
 */

let home: string;
const tokens: Record<string, string> = {};
const PROJECT = "/work/cli-alpha";
const env = () => cliEnv({ PIGEONHOLE_ARCHIVE: "off" });
const BEARER = "cli-client-bearer-7f3a9c";

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "pigeonhole-cli-client-"));
  const mb = openMailbox({ home, archive: false });
  ensureProject(mb, { human_key: PROJECT });
  for (const name of ["Alice", "Bob", "Carol", "Dave"]) {
    tokens[name] = registerAgent(mb, {
      project_key: PROJECT,
      program: "test",
      model: "m",
      name,
      task_description: `task of ${name}`,
    }).registration_token;
  }
  await mb.close();
});

afterAll(async () => {
  await killAll();
  await rm(home, { recursive: true, force: true });
});

/** Run the CLI with `input` on stdin. */
function runWithInput(args: string[], input: string, environment = env()): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: environment,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(input);
  });
}

const local = (...args: string[]) => runCli([...args, "--home", home], env());

function expectOk(run: CliRun): void {
  expect(run.stderr, run.stderr).toBe("");
  expect(run.code).toBe(0);
}

function expectOneLineError(run: CliRun, pattern: RegExp): void {
  expect(run.code).toBe(1);
  const lines = run.stderr.trim().split("\n");
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
}

describe("client commands on a local mailbox (--home)", () => {
  it("send prints what it sent; --json prints the tool's result", async () => {
    const run = await local(
      "send",
      "--project",
      PROJECT,
      "--from",
      "Alice",
      "--to",
      "Bob",
      "--cc",
      "Carol",
      "--subject",
      "Deploy window",
      "--body",
      "Tonight at **9**.",
      "--importance",
      "urgent",
      "--ack-required",
      "--topic",
      "deploys",
    );
    expectOk(run);
    expect(run.stdout).toMatch(/^Sent #\d+ "Deploy window" to Bob, Carol \(thread \d+\)\.\n$/);

    const json = await local(
      "send",
      "--project",
      PROJECT,
      "--from",
      "Carol",
      "--to",
      "Bob,Alice",
      "--subject",
      "Lunch",
      "--body",
      "Noon?",
      "--json",
    );
    expectOk(json);
    const result = JSON.parse(json.stdout);
    expect(result.count).toBe(1);
    expect(result.deliveries[0].payload).toMatchObject({
      subject: "Lunch",
      from: "Carol",
    });
    expect([...result.deliveries[0].payload.to].sort()).toEqual(["Alice", "Bob"]);
    // The local user owns the mailbox: no token needed, and none claimed.
    expect(result.verified_sender).toBe(false);
  });

  it("send reads the body from a file or from stdin with --body-file -", async () => {
    const file = join(home, "body.md");
    await writeFile(file, "# From a file\n\nwith lines\n");
    expectOk(
      await local(
        "send",
        "--project",
        PROJECT,
        "--from",
        "Dave",
        "--to",
        "Carol",
        "--subject",
        "file",
        "--body-file",
        file,
      ),
    );
    const piped = await runWithInput(
      [
        "send",
        "--project",
        PROJECT,
        "--from",
        "Dave",
        "--to",
        "Carol",
        "--subject",
        "piped",
        "--body-file",
        "-",
        "--home",
        home,
      ],
      "Body from **stdin**\n",
    );
    expectOk(piped);
    const inbox = await local("inbox", "--project", PROJECT, "--agent", "Carol", "--bodies", "--json");
    expectOk(inbox);
    const items = JSON.parse(inbox.stdout) as Array<{ subject: string; body_md: string }>;
    expect(items.find((m) => m.subject === "piped")?.body_md).toBe("Body from **stdin**\n");
    expect(items.find((m) => m.subject === "file")?.body_md).toBe("# From a file\n\nwith lines\n");
  });

  it("inbox prints aligned lines with unread marks and badges; --bodies adds bodies; --json the list", async () => {
    const run = await local("inbox", "--project", PROJECT, "--agent", "Bob");
    expectOk(run);
    const lines = run.stdout.trimEnd().split("\n");
    const lunch = lines.find((l) => l.endsWith("Lunch")) ?? "";
    const deploy = lines.find((l) => l.endsWith("Deploy window")) ?? "";
    expect(lunch).toMatch(/^\* +#\d+ +\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z +Carol +Lunch$/);
    expect(deploy).toMatch(
      /^\* +#\d+ +\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z +Alice +\[urgent\] \[ack\] +Deploy window$/,
    );
    // Aligned: the subjects start in the same column.
    expect(lunch.indexOf("Lunch")).toBe(deploy.indexOf("Deploy window"));
    // Newest first.
    expect(lines.indexOf(lunch)).toBeLessThan(lines.indexOf(deploy));

    const bodies = await local("inbox", "--project", PROJECT, "--agent", "Bob", "--bodies", "--limit", "1");
    expectOk(bodies);
    expect(bodies.stdout).toMatch(/Lunch\n {4}Noon\?\n$/);

    const json = await local("inbox", "--project", PROJECT, "--agent", "Bob", "--limit", "1", "--json");
    const items = JSON.parse(json.stdout);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ subject: "Lunch", from: "Carol", kind: "to" });

    const empty = await local("inbox", "--project", PROJECT, "--agent", "Dave", "--unread-only");
    expectOk(empty);
    expect(empty.stdout).toBe("No mail for Dave.\n");
    const urgent = await local("inbox", "--project", PROJECT, "--agent", "Bob", "--urgent-only");
    expect(urgent.stdout.trimEnd().split("\n")).toHaveLength(1);
  });

  it("peek prints a sentence, --json the counts, and --if-unread stays silent without unread mail", async () => {
    const bob = await local("peek", "--project", PROJECT, "--agent", "Bob");
    expectOk(bob);
    expect(bob.stdout).toMatch(
      /^Bob has 2 unread messages \(1 urgent\), 1 awaiting acknowledgement; oldest unread from \d{4}-\d{2}-\d{2} \d{2}:\d{2}Z\.\n$/,
    );
    const json = await local("peek", "--project", PROJECT, "--agent", "Bob", "--json");
    expect(JSON.parse(json.stdout)).toMatchObject({ unread: 2, urgent_unread: 1, ack_pending: 1 });

    const dave = await local("peek", "--project", PROJECT, "--agent", "Dave");
    expect(dave.stdout).toBe("Dave has no unread mail.\n");
    const quiet = await local("peek", "--project", PROJECT, "--agent", "Dave", "--if-unread", "--json");
    expectOk(quiet);
    expect(quiet.stdout).toBe("");
    const loud = await local("peek", "--project", PROJECT, "--agent", "Bob", "--if-unread");
    expect(loud.stdout).toMatch(/^Bob has 2 unread messages/);
  });

  it("agents prints a table; --json the directory", async () => {
    const run = await local("agents", "--project", PROJECT);
    expectOk(run);
    const [header, ...rows] = run.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME +PROGRAM +MODEL +UNREAD +LAST ACTIVE +STATUS +TASK$/);
    expect(rows.map((r) => r.split(/ +/)[0])).toEqual(["Alice", "Bob", "Carol", "Dave"]);
    expect(rows[1]).toMatch(/^Bob +test +m +2 +\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z +active +task of Bob$/);
    const json = await local("agents", "--project", PROJECT, "--json");
    const agents = JSON.parse(json.stdout) as Array<{ name: string; unread_count: number }>;
    expect(agents.find((a) => a.name === "Bob")?.unread_count).toBe(2);
  });

  it("fails with one line and exit 1: unknown project, missing --to, --body with --body-file, no body", async () => {
    expectOneLineError(
      await local("peek", "--project", "no-such-project", "--agent", "Bob"),
      /no-such-project.*not found/,
    );
    expectOneLineError(await local("inbox", "--project", PROJECT, "--agent", "Nobody"), /Nobody/);
    expectOneLineError(
      await local("send", "--project", PROJECT, "--from", "Alice", "--subject", "s", "--body", "b"),
      /--to/,
    );
    expectOneLineError(
      await local(
        "send",
        "--project",
        PROJECT,
        "--from",
        "Alice",
        "--to",
        "Bob",
        "--subject",
        "s",
        "--body",
        "b",
        "--body-file",
        "f",
      ),
      /--body.*--body-file/,
    );
    expectOneLineError(
      await local("send", "--project", PROJECT, "--from", "Alice", "--to", "Bob", "--subject", "s"),
      /--body TEXT or --body-file/,
    );
    expectOneLineError(
      await local(
        "send",
        "--project",
        PROJECT,
        "--from",
        "Alice",
        "--to",
        "Bob",
        "--subject",
        "s",
        "--body-file",
        join(home, "none"),
      ),
      /Cannot read --body-file .*ENOENT/,
    );
    expectOneLineError(
      await local("inbox", "--project", PROJECT, "--agent", "Bob", "--limit", "0"),
      /--limit/,
    );
    expectOneLineError(
      await runCli(["agents", "--project", PROJECT, "--home", home, "--url", "http://127.0.0.1:1"], env()),
      /either --url .* or --home/,
    );
  });

  it("with --json a failure also prints the error body on stdout", async () => {
    const run = await local("peek", "--project", "no-such-project", "--agent", "Bob", "--json");
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: { type: "NOT_FOUND", recoverable: true } });
    expect(run.stderr).toMatch(/^error: .*no-such-project/);
  });
});

describe("client commands against a running server (--url)", () => {
  let server: ServeProcess;
  let remoteHome: string;

  beforeAll(async () => {
    remoteHome = await mkdtemp(join(tmpdir(), "pigeonhole-cli-remote-"));
    const mb = openMailbox({ home: remoteHome, archive: false });
    ensureProject(mb, { human_key: PROJECT });
    for (const name of ["Erin", "Frank"]) {
      tokens[name] = registerAgent(mb, {
        project_key: PROJECT,
        program: "test",
        model: "m",
        name,
      }).registration_token;
    }
    await mb.close();
    // Authentication on: every remote command must send PIGEONHOLE_TOKEN as its bearer token.
    server = await startServe(
      ["--home", remoteHome],
      cliEnv({ PIGEONHOLE_ARCHIVE: "off", PIGEONHOLE_TOKEN: BEARER }),
    );
  });

  afterAll(async () => {
    await server.stop();
    await rm(remoteHome, { recursive: true, force: true });
  });

  const remote = (args: string[], extra: Record<string, string> = {}) =>
    runCli([...args, "--url", server.url], cliEnv({ PIGEONHOLE_TOKEN: BEARER, ...extra }));

  it("sends, lists, peeks and lists agents through the REST API with the agent's token", async () => {
    const sent = await remote(
      [
        "send",
        "--project",
        PROJECT,
        "--from",
        "Erin",
        "--to",
        "Frank",
        "--subject",
        "Over HTTP",
        "--body",
        "hello",
        "--importance",
        "high",
      ],
      { PIGEONHOLE_AGENT_TOKEN: tokens.Erin as string },
    );
    expectOk(sent);
    expect(sent.stdout).toMatch(/^Sent #\d+ "Over HTTP" to Frank/);

    const piped = await runWithInput(
      [
        "send",
        "--project",
        PROJECT,
        "--from",
        "Erin",
        "--to",
        "Frank",
        "--subject",
        "Piped over HTTP",
        "--body-file",
        "-",
        "--url",
        server.url,
        "--agent-token",
        tokens.Erin as string,
      ],
      "piped body",
      cliEnv({ PIGEONHOLE_TOKEN: BEARER }),
    );
    expectOk(piped);

    const inbox = await remote([
      "inbox",
      "--project",
      PROJECT,
      "--agent",
      "Frank",
      "--agent-token",
      tokens.Frank as string,
    ]);
    expectOk(inbox);
    const lines = inbox.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^\* +#\d+ .* Erin +\[high\] +Over HTTP$/);

    const json = await remote(
      ["inbox", "--project", PROJECT, "--agent", "Frank", "--bodies", "--json", "--limit", "1"],
      {
        PIGEONHOLE_AGENT_TOKEN: tokens.Frank as string,
      },
    );
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ subject: "Piped over HTTP", body_md: "piped body" });

    const peek = await remote(["peek", "--project", PROJECT, "--agent", "Frank"], {
      PIGEONHOLE_AGENT_TOKEN: tokens.Frank as string,
    });
    expectOk(peek);
    expect(peek.stdout).toMatch(/^Frank has 2 unread messages \(1 urgent\);/);

    const agents = await remote(["agents", "--project", PROJECT]);
    expectOk(agents);
    expect(agents.stdout).toMatch(/^Frank +test +m +2 /m);
  });

  it("reports the server's refusal as one line, with how to pass the token", async () => {
    const noBearer = await remote(["agents", "--project", PROJECT], { PIGEONHOLE_TOKEN: "" });
    expectOneLineError(noBearer, /Authorization: Bearer/);
    const badBearer = await remote(["agents", "--project", PROJECT], { PIGEONHOLE_TOKEN: "not-the-token" });
    expectOneLineError(badBearer, /Bearer/);

    const run = await remote(["peek", "--project", PROJECT, "--agent", "Frank"]);
    expectOneLineError(run, /not bound to Frank.*--agent-token TOKEN or PIGEONHOLE_AGENT_TOKEN/);
    const json = await remote(["peek", "--project", PROJECT, "--agent", "Frank", "--json"]);
    expect(JSON.parse(json.stdout).error.type).toBe("PERMISSION_DENIED");
    expectOneLineError(
      await remote(["agents", "--project", "no-such-project"]),
      /Project "no-such-project" not found/,
    );
  });

  it("uses PIGEONHOLE_URL when no --url is given, and an explicit --home over it", async () => {
    const viaEnv = await runCli(
      ["agents", "--project", PROJECT],
      cliEnv({ PIGEONHOLE_URL: server.url, PIGEONHOLE_TOKEN: BEARER }),
    );
    expectOk(viaEnv);
    expect(viaEnv.stdout).toContain("Erin");
    const localWins = await runCli(
      ["agents", "--project", PROJECT, "--home", home],
      cliEnv({ PIGEONHOLE_URL: server.url }),
    );
    expectOk(localWins);
    expect(localWins.stdout).toContain("Alice");
    expect(localWins.stdout).not.toContain("Erin");
  });

  it("reports a server that cannot be reached as one line", async () => {
    await server.stop();
    const run = await runCli(["agents", "--project", PROJECT, "--url", server.url], env());
    expectOneLineError(
      run,
      /Cannot reach the Pigeonhole server at http:\/\/127\.0\.0\.1:\d+ .*pigeonhole serve/,
    );
  });
});

describe("client requests on the wire", () => {
  it("sends PIGEONHOLE_TOKEN as a bearer token and the agent token as X-Agent-Token, and reports a non-canonical error", async () => {
    const seen: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders }> = [];
    const stub = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers });
      if (req.url?.startsWith("/v1/peek")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            unread: 1,
            urgent_unread: 0,
            ack_pending: 0,
            oldest_unread_ts: "2026-01-02T03:04:05.000Z",
          }),
        );
      } else {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: "missing or invalid bearer token" }));
      }
    });
    await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
    try {
      const peek = await runCli(
        ["peek", "--project", "/work/x", "--agent", "Bob", "--url", url],
        cliEnv({ PIGEONHOLE_TOKEN: "secret-bearer", PIGEONHOLE_AGENT_TOKEN: "agent-secret" }),
      );
      expectOk(peek);
      expect(peek.stdout).toBe("Bob has 1 unread message; oldest unread from 2026-01-02 03:04Z.\n");
      expect(seen[0]?.method).toBe("GET");
      expect(seen[0]?.url).toBe("/v1/peek?project_key=%2Fwork%2Fx&agent_name=Bob");
      expect(seen[0]?.headers.authorization).toBe("Bearer secret-bearer");
      expect(seen[0]?.headers["x-agent-token"]).toBe("agent-secret");

      const refused = await runCli(["agents", "--project", "p", "--url", url], cliEnv());
      expectOneLineError(refused, /HTTP 401: missing or invalid bearer token/);
      expect(seen[1]?.headers.authorization).toBeUndefined();
    } finally {
      stub.closeAllConnections();
      await new Promise((resolve) => stub.close(resolve));
    }
  });
});
