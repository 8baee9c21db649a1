import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { openMailbox } from "../engine/index.js";
import { silentLogger } from "../server/log.js";
import { PROFILES, type Profile } from "../server/mcp/catalog.js";
import { createRuntime } from "../server/mcp/runtime.js";
import { createMcpSession } from "../server/mcp/server.js";

/** The size of one profile's `tools/list` answer, as a client's context receives it. */
export interface ToolsListSize {
  profile: Profile;
  tools: number;
  /** Characters of the JSON `result` of `tools/list`, exactly as the server sent it. */
  chars: number;
  /** chars / 4, rounded: a rough token estimate (no tokenizer is involved). */
  approx_tokens: number;
}

/** Measure `tools/list` for every profile through a real server session and client. */
export async function measureToolsList(): Promise<ToolsListSize[]> {
  const home = mkdtempSync(join(tmpdir(), "ph-tools-list-"));
  const mailbox = openMailbox({ home, archive: false });
  try {
    const sizes: ToolsListSize[] = [];
    for (const profile of PROFILES) {
      const runtime = createRuntime(mailbox, silentLogger(), { profile });
      const { server } = createMcpSession(runtime);
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const client = new Client({ name: "tools-list-size", version: "1" });
      await client.connect(clientSide);
      // Capture the raw JSON-RPC answer, so the figure is what goes over the wire, not a re-serialization.
      let raw = "";
      const deliver = clientSide.onmessage;
      clientSide.onmessage = (message: JSONRPCMessage, extra) => {
        if ("result" in message && "tools" in message.result) raw = JSON.stringify(message.result);
        deliver?.(message, extra);
      };
      const { tools } = await client.listTools();
      await client.close();
      sizes.push({
        profile,
        tools: tools.length,
        chars: raw.length,
        approx_tokens: Math.round(raw.length / 4),
      });
    }
    return sizes;
  } finally {
    await mailbox.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/** The README's "Tool profiles" table rows for `sizes`. */
export function formatToolsListTable(sizes: ToolsListSize[]): string {
  const rows = sizes.map(
    (s) =>
      `| \`${s.profile}\` | ${s.tools} | ${s.chars.toLocaleString("en-US")} | ${s.approx_tokens.toLocaleString("en-US")} |`,
  );
  return [
    "| Profile | Tools | `tools/list` JSON (characters) | Approx. tokens (characters / 4) |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${formatToolsListTable(await measureToolsList())}\n`);
}
