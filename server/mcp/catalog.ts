import { z } from "zod";
import { fail } from "../../engine/index.js";
import { defineTool, type ToolSpec } from "./tool-spec.js";
import { CONTACT_TOOLS } from "./tools/contacts.js";
import { IDENTITY_TOOLS } from "./tools/identity.js";
import { MACRO_TOOLS } from "./tools/macros.js";
import { MESSAGING_TOOLS } from "./tools/messaging.js";
import { RESERVATION_TOOLS } from "./tools/reservations.js";

/** Tool profiles: `core` lists the day-to-day tools plus two meta-tools that reach the rest. */
export const PROFILES = ["core", "full"] as const;
export type Profile = (typeof PROFILES)[number];

/** Every agent-facing tool of TOOLS.md, in listing order. The one registry of tools. */
export const TOOLS: readonly ToolSpec[] = [
  ...IDENTITY_TOOLS,
  ...MESSAGING_TOOLS,
  ...CONTACT_TOOLS,
  ...RESERVATION_TOOLS,
  ...MACRO_TOOLS,
];

const BY_NAME = new Map(TOOLS.map((t) => [t.name, t]));

/** The tool called `name`, if any. */
export function findTool(name: string): ToolSpec | undefined {
  return BY_NAME.get(name) ?? META_BY_NAME.get(name);
}

/** Meta-tools of the `core` profile; their bodies are supplied by the server (they dispatch other tools). */
export const LIST_EXTENDED_TOOLS = defineTool({
  name: "list_extended_tools",
  title: "List extended tools",
  description:
    "Tools beyond the core profile, with descriptions and argument schemas; call them with call_extended_tool.",
  input: z.object({}),
  access: "read",
  core: true,
  run: () => ({
    tools: TOOLS.filter((t) => !t.core).map((t) => ({
      name: t.name,
      description: t.description,
      access: t.access,
      input_schema: inputJsonSchema(t),
    })),
  }),
});

export const CallExtendedToolInput = z.object({
  tool_name: z.string().min(1).describe("Name of the tool to call (see list_extended_tools)"),
  arguments: z.record(z.string(), z.unknown()).default({}).describe("The tool's arguments"),
});

/** The spec of call_extended_tool; the server dispatches it to the named tool itself. */
export const CALL_EXTENDED_TOOL = defineTool({
  name: "call_extended_tool",
  title: "Call extended tool",
  description: "Call any tool by name with its arguments (the same result as calling it directly).",
  input: CallExtendedToolInput,
  access: "read",
  core: true,
  run: () => {
    throw fail.invalid("call_extended_tool is dispatched by the server");
  },
});

const META_BY_NAME = new Map([LIST_EXTENDED_TOOLS, CALL_EXTENDED_TOOL].map((t) => [t.name, t]));

/** The tools listed for a profile. */
export function toolsForProfile(profile: Profile): ToolSpec[] {
  return profile === "full"
    ? [...TOOLS]
    : [...TOOLS.filter((t) => t.core), LIST_EXTENDED_TOOLS, CALL_EXTENDED_TOOL];
}

const schemaCache = new Map<string, Record<string, unknown>>();

/** The JSON Schema of a tool's arguments, as clients see it (input side of transforms), computed once. */
export function inputJsonSchema(tool: ToolSpec): Record<string, unknown> {
  let schema = schemaCache.get(tool.name);
  if (!schema) {
    const { $schema: _drop, ...rest } = z.toJSONSchema(tool.input, {
      io: "input",
      unrepresentable: "any",
    }) as Record<string, unknown>;
    schema = rest;
    schemaCache.set(tool.name, schema);
  }
  return schema;
}
