import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { beforeEach, describe, expect, test } from "vitest";
import { ensureProject, type Mailbox, openMailbox, registerAgent, sendMessage } from "../../engine/index.js";
import type { ServerRuntime } from "../../server/mcp/runtime.js";
import type { SessionOptions } from "../../server/mcp/session.js";
import { type InMemoryServer, inMemoryServer } from "./in-memory-server.js";

let server: InMemoryServer;
let mailbox: Mailbox;
let runtime: ServerRuntime;
let home: string;

beforeEach(() => {
  server = inMemoryServer();
  ({ mailbox, runtime, home } = server);
  ensureProject(mailbox, { human_key: "/repo" });
  for (const name of ["Alice", "Bob", "Carol"])
    registerAgent(mailbox, { project_key: "repo", program: "p", model: "m", name });
});

const connect = (session: SessionOptions) => server.connect(session);

async function readJson(client: Client, uri: string): Promise<unknown> {
  const result = await client.readResource({ uri });
  return JSON.parse((result.contents[0] as { text: string }).text);
}

describe("resources", () => {
  test("lists static resources and templates from TOOLS.md", async () => {
    const client = await connect({ defaultAgent: "Bob", trustDefaultAgent: true });
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual(["resource://projects", "resource://tooling/metrics"]);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain(
      "resource://inbox/{agent}{?project,since_ts,urgent_only,include_bodies,limit}",
    );
    expect(resourceTemplates).toHaveLength(9);
  });

  test("inbox, views, message, thread, agents, project, projects and metrics read as JSON", async () => {
    const sent = await sendMessage(mailbox, {
      project_key: "repo",
      sender_name: "Alice",
      to: "Bob",
      subject: "Plan",
      body_md: "b",
      importance: "urgent",
      ack_required: true,
    });
    const id = sent.deliveries[0]!.payload.id;
    const bob = await connect({ defaultAgent: "Bob", trustDefaultAgent: true });
    const inbox = (await readJson(bob, "resource://inbox/Bob?limit=5&include_bodies=true")) as {
      subject: string;
      body_md: string;
    }[];
    expect(inbox[0]).toMatchObject({ subject: "Plan", body_md: "b" });
    expect(await readJson(bob, "resource://views/urgent-unread/Bob")).toHaveLength(1);
    expect(await readJson(bob, "resource://views/ack-required/Bob?project=repo")).toHaveLength(1);
    expect(await readJson(bob, `resource://message/${id}`)).toMatchObject({ id, from: "Alice" });
    expect(await readJson(bob, `resource://thread/${id}?project=repo`)).toMatchObject({
      thread_id: String(id),
    });
    expect(await readJson(bob, "resource://agents/repo")).toHaveLength(3);
    expect(await readJson(bob, "resource://project/repo")).toMatchObject({
      slug: "repo",
      human_key: "/repo",
    });
    expect(await readJson(bob, "resource://projects")).toHaveLength(1);
    expect(await readJson(bob, "resource://tooling/metrics")).toHaveProperty("tools");
    expect(await readJson(bob, "resource://file_reservations/repo?active_only=false")).toEqual({
      project: "repo",
      file_reservations: [],
    });
  });

  test("another agent's inbox, unknown URIs and bad parameters are refused", async () => {
    const bob = await connect({ defaultAgent: "Bob", trustDefaultAgent: true });
    await expect(bob.readResource({ uri: "resource://inbox/Alice" })).rejects.toThrow(/PERMISSION_DENIED/);
    await expect(bob.readResource({ uri: "resource://nothing/here" })).rejects.toThrow(/No resource/);
    await expect(bob.readResource({ uri: "resource://inbox/Bob?limit=many" })).rejects.toThrow(
      /whole number/,
    );
    await expect(bob.readResource({ uri: "resource://inbox/Bob?color=red" })).rejects.toThrow(
      /Unknown parameter/,
    );
  });

  test("a subscribed inbox is notified of mail written by another mailbox handle (another process)", async () => {
    const bob = await connect({ defaultAgent: "Bob", trustDefaultAgent: true });
    const updates: string[] = [];
    const arrived = new Promise<void>((resolve) => {
      bob.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        updates.push(n.params.uri);
        resolve();
      });
    });
    await bob.subscribeResource({ uri: "resource://inbox/Bob" });
    const other = openMailbox({ home, archive: false });
    try {
      // Mail to Carol must not notify Bob's subscription; mail to Bob must.
      await sendMessage(other, {
        project_key: "repo",
        sender_name: "Alice",
        to: "Carol",
        subject: "x",
        body_md: "x",
      });
      runtime.watcher.tick();
      expect(updates).toEqual([]);
      await sendMessage(other, {
        project_key: "repo",
        sender_name: "Alice",
        to: "Bob",
        subject: "y",
        body_md: "y",
      });
      await arrived;
      expect(updates).toEqual(["resource://inbox/Bob"]);
    } finally {
      await other.close();
    }
    await bob.unsubscribeResource({ uri: "resource://inbox/Bob" });
  });

  test("only inbox and view resources can be subscribed", async () => {
    const bob = await connect({ defaultAgent: "Bob", trustDefaultAgent: true });
    await expect(bob.subscribeResource({ uri: "resource://projects" })).rejects.toThrow(
      /cannot be subscribed/,
    );
  });
});
