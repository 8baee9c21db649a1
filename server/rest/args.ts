import { fail } from "../../engine/index.js";
import { inputJsonSchema } from "../mcp/catalog.js";
import type { ToolSpec } from "../mcp/tool-spec.js";

/**
 * Turning an HTTP request into a tool's arguments: the query string (GET) coerced by the tool's own input
 * schema, or the JSON object body (POST) the HTTP layer has already read and parsed. Both use the tool's
 * parameter names and nothing else, so a misspelt parameter is an error instead of a silently ignored one.
 */

/** Arguments every tool accepts besides its schema: the acting agent's registration token. */
export const TOKEN_PARAMETERS: readonly string[] = ["sender_token", "agent_token"];

type Kind = "list" | "number" | "boolean" | "string";

interface JsonSchemaNode {
  type?: string | string[];
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
}

function typesOf(node: JsonSchemaNode, into: Set<string>): Set<string> {
  if (typeof node.type === "string") into.add(node.type);
  if (Array.isArray(node.type)) for (const t of node.type) into.add(t);
  for (const branch of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) typesOf(branch, into);
  return into;
}

/** How a query-string value maps onto a parameter; a list wins (a name or a list of names is a list). */
function kindOf(node: JsonSchemaNode): Kind {
  const types = typesOf(node, new Set());
  if (types.has("array")) return "list";
  if (types.has("integer") || types.has("number")) return "number";
  if (types.has("boolean")) return "boolean";
  return "string";
}

function parameterSchemas(tool: ToolSpec): Record<string, JsonSchemaNode> {
  return (inputJsonSchema(tool).properties ?? {}) as Record<string, JsonSchemaNode>;
}

/** The parameter names a REST request for `tool` may use: its schema's plus the token parameters. */
export function parameterNames(tool: ToolSpec): string[] {
  return [...Object.keys(parameterSchemas(tool)), ...TOKEN_PARAMETERS];
}

function refuseUnknown(tool: ToolSpec, names: Iterable<string>): void {
  const known = new Set(parameterNames(tool));
  const unknown = [...new Set(names)].filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw fail.invalid(
      `Unknown parameter${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} for ${tool.name}; it takes ${[...known].join(", ")}.`,
      { unknown, parameters: [...known] },
    );
  }
}

/**
 * A tool's arguments from a query string. Values are coerced by the tool's input schema: numbers
 * (`limit=5`), booleans (`true`/`false`/`1`/`0`, or the bare key for true) and lists, given as repeated
 * keys (`to=A&to=B`), comma lists (`to=A,B`) or both. A value that does not coerce is passed on as text,
 * so the schema's own error names the field. A scalar given twice, or an unknown name, is INVALID_ARGUMENT.
 */
export function queryArgs(tool: ToolSpec, query: URLSearchParams): Record<string, unknown> {
  refuseUnknown(tool, query.keys());
  const schemas = parameterSchemas(tool);
  const args: Record<string, unknown> = {};
  for (const name of new Set(query.keys())) {
    const values = query.getAll(name);
    const schema = schemas[name];
    const kind = schema ? kindOf(schema) : "string";
    if (kind === "list") {
      args[name] = values
        .flatMap((v) => v.split(","))
        .map((v) => v.trim())
        .filter((v) => v !== "");
      continue;
    }
    if (values.length > 1) {
      throw fail.invalid(`${name} is given ${values.length} times in the query string; give it once.`, {
        field: name,
      });
    }
    args[name] = coerceScalar(kind, values[0] ?? "");
  }
  return args;
}

function coerceScalar(kind: Kind, value: string): unknown {
  if (kind === "number" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
  if (kind === "boolean") {
    const word = value.trim().toLowerCase();
    if (word === "true" || word === "1" || word === "") return true;
    if (word === "false" || word === "0") return false;
  }
  return value;
}

/** A tool's arguments from a parsed JSON body: it must be an object using only the tool's parameter names. */
export function bodyArgs(tool: ToolSpec, body: unknown): Record<string, unknown> {
  if (body === undefined)
    throw fail.invalid(`The request body is empty; send a JSON object of ${tool.name}'s parameters.`);
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw fail.invalid(`The request body must be a JSON object of ${tool.name}'s parameters.`);
  }
  const args = body as Record<string, unknown>;
  refuseUnknown(tool, Object.keys(args));
  return args;
}
