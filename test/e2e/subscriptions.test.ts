import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ensureProject, openMailbox, registerAgent } from "../../engine/index.js";
import { killAll, startServe } from "../server/cli-process.js";
import { closeClients, httpClient, ok, stdioClient, waitFor } from "./harness.js";

/**
 * `resources/subscribe` on an inbox over real transports: the subscriber hears
 * `notifications/resources/updated` when mail for its agent is written by ANOTHER server process sharing
 * the mailbox directory (the zero-infrastructure setup), or by another session of the same HTTP server.
 */

const INBOX = "resource://inbox/Bob";
let home: string;
let project: string;
const tokens: Record<string, string> = {};

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), "ph-e2e-sub-"));
  const mb = openMailbox({ home });
  project = ensureProject(mb, { human_key: "/work/shop" }).slug;
  for (const name of ["Alice", "Bob"]) {
    tokens[name] = registerAgent(mb, {
      project_key: project,
      program: "p",
      model: "m",
      name,
    }).registration_token;
  }
  await mb.close();
});

afterEach(async () => {
  await closeClients();
  await killAll();
  rmSync(home, { recursive: true, force: true });
});

/** Subscribe `client` to Bob's inbox; returns the URIs it has been told about so far. */
async function subscribeToBob(client: Client): Promise<string[]> {
  const updated: string[] = [];
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updated.push(n.params.uri);
  });
  await client.subscribeResource({ uri: INBOX });
  return updated;
}

/** Send Bob mail as the sender's default agent; `token` proves the identity where nothing vouches for it. */
async function mailBob(sender: Client, subject: string, token?: string): Promise<void> {
  const proof = token ? { sender_token: token } : {};
  await ok(sender, "send_message", {
    project_key: project,
    to: "Bob",
    subject,
    body_md: "see subject",
    ...proof,
  });
}

describe("inbox subscriptions across processes", () => {
  it("over stdio: Bob's server process hears of mail written by Alice's server process", async () => {
    const bob = await stdioClient(home, ["--agent", "Bob"]);
    const alice = await stdioClient(home, ["--agent", "Alice"]);
    const updated = await subscribeToBob(bob);
    await mailBob(alice, "from another process");
    await waitFor("the inbox update notification", () => updated.length > 0);
    expect(updated[0]).toBe(INBOX);
    // The notification means new data: reading the resource now shows the message.
    const read = await bob.readResource({ uri: INBOX });
    expect((read.contents[0] as { text: string }).text).toContain("from another process");
  });

  it("over HTTP: a subscribed session hears of mail from another session and from a stdio process", async () => {
    const server = await startServe(["--home", home]);
    // X-Agent-Name names the session's default agent but does not vouch for it: one call with Bob's
    // token binds him to the session, which may then subscribe to his inbox.
    const bob = await httpClient(server.url, { "X-Agent-Name": "Bob" });
    await ok(bob, "peek_inbox", { project_key: project, agent_token: tokens.Bob });
    const updated = await subscribeToBob(bob);

    const aliceHttp = await httpClient(server.url, { "X-Agent-Name": "Alice" });
    await mailBob(aliceHttp, "from another session", tokens.Alice);
    await waitFor("the first inbox update", () => updated.length > 0);

    const seen = updated.length;
    const aliceStdio = await stdioClient(home, ["--agent", "Alice"]);
    await mailBob(aliceStdio, "from a stdio process");
    await waitFor("the second inbox update", () => updated.length > seen);
    expect(new Set(updated)).toEqual(new Set([INBOX]));
    const read = await bob.readResource({ uri: INBOX });
    expect((read.contents[0] as { text: string }).text).toContain("from a stdio process");
  });
});
