import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { inputJsonSchema, TOOLS } from "../../server/mcp/catalog.js";
import { anyValue, nested, type ToolSchema, toolArguments } from "./arbitraries.js";
import {
  checkToolAnswer,
  createSandbox,
  preview,
  type Sandbox,
  watchUnhandledRejections,
} from "./harness.js";
import { buildWorld, type World } from "./world.js";

/**
 * Every tool of the catalog, called through the real SDK client with random and malformed arguments,
 * answers with a result or a typed error: never a protocol error, never INTERNAL, never an unhandled
 * rejection. Three kinds of session call: a strict one bound to Alice, an open-identity one (which gets
 * past identity checks into the engine) and a reader (write tools must refuse it).
 */

const RUNS_PER_TOOL = Number(process.env.PROPERTY_RUNS ?? 40);

type Who = "strict" | "open" | "reader";

/** Arguments that once got INTERNAL, replayed first on every run. */
function regressions(tool: string, world: World): [Who, Record<string, unknown>][] {
  const base = { project_key: world.slug, requester: "Alice", target: "Bob" };
  switch (tool) {
    case "macro_contact_handshake":
      return [
        ["strict", { auto_accept: true }],
        ["strict", { ...base, target: 7, auto_accept: true }],
        ["strict", { ...base, auto_accept: true, target_token: 5 }],
      ];
    case "send_message":
      // Valid JSON nested too deeply for JSON.stringify.
      return [
        [
          "open",
          { ...base, sender_name: "Alice", to: "Bob", subject: "s", body_md: "b", payload: nested(20_000) },
        ],
      ];
    default:
      return [];
  }
}

let sandbox: Sandbox;
let world: World;
let clients: Record<Who, Client>;
let core: Client;
const rejections = watchUnhandledRejections();

beforeAll(async () => {
  // A configured LLM would turn summarize_thread into network calls.
  vi.stubEnv("PIGEONHOLE_LLM_URL", "");
  vi.stubEnv("PIGEONHOLE_LLM_MODEL", "");
  sandbox = await createSandbox();
  world = await buildWorld(sandbox);
  clients = {
    strict: await sandbox.connect({ defaultAgent: "Alice", trustDefaultAgent: true }),
    open: await sandbox.connect({}, { identityMode: "open" }),
    reader: await sandbox.connect({ role: "reader" }),
  };
  core = await sandbox.connect({}, { profile: "core", identityMode: "open" });
});

afterEach(() => {
  expect(rejections.drain()).toEqual([]);
});

const stats = new Map<string, number>();
afterAll(async () => {
  if (process.env.PROPERTY_STATS)
    console.log(
      [...stats]
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n"),
    );
  rejections.stop();
  vi.unstubAllEnvs();
  await sandbox.close();
});

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  try {
    return (await client.callTool({ name, arguments: args })) as CallToolResult;
  } catch (error) {
    throw new Error(`${name}(${preview(args)}) failed at the protocol level: ${String(error)}`);
  }
}

describe("every tool, random and malformed arguments", () => {
  for (const tool of TOOLS) {
    it(`${tool.name}: a result or a typed error, never INTERNAL`, async () => {
      const schema = inputJsonSchema(tool) as ToolSchema;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom<Who>("strict", "open", "reader"),
          toolArguments(schema, world),
          async (who, args) => {
            const what = `${tool.name} as ${who} with ${preview(args)}`;
            const result = await call(clients[who], tool.name, args);
            const body = checkToolAnswer(result, what);
            if (process.env.PROPERTY_STATS) {
              const code = (body as { error?: { type?: string } }).error?.type ?? "ok";
              stats.set(`${tool.name} ${code}`, (stats.get(`${tool.name} ${code}`) ?? 0) + 1);
            }
            if (who === "reader" && tool.access === "write") {
              expect((body as { error?: { type?: string } }).error?.type, what).toBe("PERMISSION_DENIED");
            }
          },
        ),
        { numRuns: RUNS_PER_TOOL, examples: regressions(tool.name, world) },
      );
    });
  }
});

describe("the core profile's meta-tools", () => {
  it("call_extended_tool with random tool names and arguments: a typed answer or InvalidParams", async () => {
    const names = fc.oneof(
      fc.constantFrom(...TOOLS.map((t) => t.name)),
      fc.string({ maxLength: 20 }),
      anyValue,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { tool_name: names, arguments: fc.oneof(anyValue, fc.dictionary(fc.string(), anyValue)) },
          { requiredKeys: [] },
        ),
        async (args) => {
          const what = `call_extended_tool(${preview(args)})`;
          try {
            checkToolAnswer(
              (await core.callTool({ name: "call_extended_tool", arguments: args })) as CallToolResult,
              what,
            );
          } catch (error) {
            // An unknown tool name is a protocol error by design (as for tools/call), with InvalidParams.
            if (!(error instanceof McpError)) throw error;
            expect(error.code, what).toBe(-32602);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("list_extended_tools ignores whatever arguments it is given", async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string(), anyValue, { maxKeys: 3 }), async (args) => {
        const result = (await core.callTool({
          name: "list_extended_tools",
          arguments: args,
        })) as CallToolResult;
        expect(result.isError).toBeFalsy();
        checkToolAnswer(result, `list_extended_tools(${preview(args)})`);
      }),
      { numRuns: 10 },
    );
  });
});

describe("arguments that are not an object", () => {
  // The SDK checks `params` before any handler of ours runs, and answers a schema failure with
  // -32603 rather than -32602 (modelcontextprotocol/typescript-sdk#2284); either way a JSON-RPC error.
  it("are refused at the protocol level, and the session keeps working", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TOOLS.map((t) => t.name)),
        anyValue.filter((v) => v !== null && (typeof v !== "object" || Array.isArray(v))),
        async (name, args) => {
          const error = await clients.open
            .callTool({ name, arguments: args as Record<string, unknown> })
            .then(
              () => undefined,
              (e: unknown) => e,
            );
          expect(error, `${name}(${preview(args)})`).toBeInstanceOf(McpError);
          expect([-32602, -32603]).toContain((error as McpError).code);
        },
      ),
      { numRuns: 30 },
    );
    const health = (await clients.open.callTool({ name: "health_check", arguments: {} })) as CallToolResult;
    expect(health.isError).toBeFalsy();
  });
});
