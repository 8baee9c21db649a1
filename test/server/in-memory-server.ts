import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { onTestFinished } from "vitest";
import { type Mailbox, openMailbox } from "../../engine/index.js";
import { silentLogger } from "../../server/log.js";
import { createRuntime, type RuntimeOptions, type ServerRuntime } from "../../server/mcp/runtime.js";
import { createMcpSession } from "../../server/mcp/server.js";
import type { SessionOptions } from "../../server/mcp/session.js";

/**
 * A server runtime over a fresh mailbox in a temp dir, and real SDK clients linked to its sessions over
 * an in-memory transport pair. Everything is closed and removed when the test finishes.
 */
export interface InMemoryServer {
  home: string;
  mailbox: Mailbox;
  runtime: ServerRuntime;
  /** A client of a new session; `options` builds a separate runtime (profile, identity mode) on the same mailbox. */
  connect(session?: SessionOptions, options?: RuntimeOptions): Promise<Client>;
}

export function inMemoryServer(): InMemoryServer {
  const home = mkdtempSync(join(tmpdir(), "ph-mcp-"));
  const mailbox = openMailbox({ home, archive: false });
  const runtime = createRuntime(mailbox, silentLogger());
  const clients: Client[] = [];
  const runtimes: ServerRuntime[] = [runtime];
  onTestFinished(async () => {
    for (const c of clients) await c.close();
    for (const r of runtimes) r.watcher.stop();
    await mailbox.close();
    rmSync(home, { recursive: true, force: true });
  });
  return {
    home,
    mailbox,
    runtime,
    async connect(session = {}, options) {
      const rt = options ? createRuntime(mailbox, silentLogger(), options) : runtime;
      if (rt !== runtime) runtimes.push(rt);
      const { server } = createMcpSession(rt, session);
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const client = new Client({ name: "test", version: "1" });
      await client.connect(clientSide);
      clients.push(client);
      return client;
    },
  };
}
