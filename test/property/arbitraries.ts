import { join } from "node:path";
import fc from "fast-check";
import { LIMITS } from "../../engine/index.js";
import type { World } from "./world.js";

/**
 * Arbitrary tool arguments, from plausible to hostile: values drawn from the world (so some calls get
 * deep into the engine), wrong types, nulls, missing and extra fields, huge and odd strings, and deeply
 * nested JSON. Every value is JSON (what a client can send over the wire).
 */

/**
 * JSON nested `depth` levels deep (arrays and objects in turn), built without recursion. It carries a
 * short description for fast-check's reports (a symbol key, invisible to JSON and to the server), since
 * printing it would overflow the stack.
 */
export function nested(depth: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  Object.defineProperty(value, fc.toStringMethod, { value: () => `nested(${depth})` });
  return value;
}

/** Strings that break naive code: empty, blank, NUL, lone surrogates, SQL and FTS syntax, paths, formats. */
const ODD_STRINGS = [
  "",
  " ",
  "\t\n",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "a\udfffb",
  "\u202e\u0645\u0631\u062d\u0628\u0627",
  "👩‍👩‍👧‍👦",
  "Ω≈ç√∫",
  "../../etc/passwd",
  "..",
  "'; DROP TABLE messages; --",
  '"',
  '"unterminated',
  "NOT",
  "AND OR NOT",
  "a OR",
  "*",
  "^",
  "NEAR(a b",
  "subject:",
  "body_md:x",
  "(((",
  "-x",
  "{}",
  "%s%n%x",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template placeholder as data, on purpose.
  "${process.exit()}",
  "<script>alert(1)</script>",
  "0",
  "-1",
  "true",
  "null",
];

/** Lengths just over the limits, where off-by-one mistakes live. */
const HUGE_LENGTHS = [
  LIMITS.agentNameChars + 1,
  LIMITS.subjectChars + 1,
  LIMITS.humanKeyChars + 1,
  LIMITS.payloadBytes + 1,
  LIMITS.bodyBytes + 1,
];

const hugeString = fc
  .tuple(fc.constantFrom(...HUGE_LENGTHS), fc.constantFrom("x", "é", "🙂"))
  .map(([n, unit]) => unit.repeat(unit === "x" ? n : Math.ceil(n / 2)));

const oddNumber = fc.constantFrom(0, -0, -1, 1, 0.5, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, -1e308, 5e-324);

/** Any JSON value, weighted towards the kinds that break validation. */
export const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  { weight: 2, arbitrary: oddNumber },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.constantFrom(10, 1_000, 20_000).map(nested) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...ODD_STRINGS), { maxLength: 5 }) },
);

/** Valid and invalid values of one parameter (either may be missing: then its JSON type decides). */
interface ParamValues {
  valid?: fc.Arbitrary<unknown>;
  invalid?: fc.Arbitrary<unknown>;
}

const words = fc.lorem({ maxCount: 12 }).filter((t) => t.trim() !== "");
const text: ParamValues = {
  valid: fc.oneof(
    fc.constantFrom("Plan", "Re: parser", "TODO: ship it", "@Bob please review", "- [ ] ACTION: tests"),
    words,
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 }).filter((t) => t.trim() !== ""),
  ),
  invalid: fc.oneof(fc.constantFrom(...ODD_STRINGS), hugeString),
};

function agentNames(world: World): ParamValues {
  return {
    valid: fc.constantFrom(...world.agents, "alice", `${world.outsider}@${world.otherSlug}`),
    invalid: fc.constantFrom(
      world.outsider,
      "NoSuchAgent",
      "bad name!",
      "-dash",
      "",
      "x".repeat(LIMITS.agentNameChars + 1),
    ),
  };
}

function nameLists(world: World): ParamValues {
  const one = agentNames(world);
  return {
    valid: fc.oneof(one.valid!, fc.array(one.valid!, { minLength: 1, maxLength: 3 })),
    invalid: fc.oneof(
      one.invalid!,
      fc.array(fc.oneof(one.valid!, one.invalid!), { maxLength: 4 }),
      fc.constant(Array.from({ length: LIMITS.recipients + 1 }, (_, i) => `Agent${i}`)),
    ),
  };
}

const ids = (known: number[]): ParamValues => ({
  valid: fc.constantFrom(...known),
  invalid: fc.oneof(fc.constantFrom(0, -1, 999_999, 1.5, 2 ** 53), fc.integer({ min: -5, max: 50 })),
});

const VALID_PATTERNS = ["src/**", "src/a.ts", "docs/*.md", "src/{a,b}.ts", "lib/**/*.js"];
const INVALID_PATTERNS = [
  "**",
  "[",
  "../escape",
  "/abs/path",
  "",
  "a".repeat(LIMITS.reservationPatternChars + 1),
];

const between = (min: number, max: number, odd: number[]): ParamValues => ({
  valid: fc.integer({ min, max }),
  invalid: fc.oneof(fc.constantFrom(min - 1, max + 1, ...odd), oddNumber),
});

/** What a parameter may be, by its name (shared across tools, as TOOLS.md names them). */
function paramValues(param: string, world: World): ParamValues {
  switch (param) {
    case "project_key":
      return {
        valid: fc.constantFrom(world.slug, world.humanKey),
        invalid: fc.constantFrom(world.otherSlug, "no-such-project", "relative/key", ""),
      };
    case "human_key":
      return {
        valid: fc.constantFrom(world.humanKey, "/work/prop-new", "/work/prop-other"),
        invalid: fc.constantFrom("relative/key", "", "x".repeat(LIMITS.humanKeyChars + 1)),
      };
    case "to_project":
      return {
        valid: fc.constantFrom(world.otherSlug, world.slug),
        invalid: fc.constantFrom("no-such-project", ""),
      };
    case "name":
    case "name_hint":
    case "agent_name":
    case "sender_name":
    case "from_agent":
    case "to_agent":
    case "requester":
    case "target":
      return agentNames(world);
    case "to":
    case "cc":
    case "bcc":
      return nameLists(world);
    case "message_id":
      return ids(world.messageIds);
    case "file_reservation_id":
      return ids(world.reservationIds);
    case "file_reservation_ids": {
      const one = ids(world.reservationIds);
      return {
        valid: fc.array(one.valid!, { minLength: 1, maxLength: 3 }),
        invalid: fc.array(fc.oneof(one.valid!, one.invalid!), { maxLength: 4 }),
      };
    }
    case "thread_id":
      return {
        valid: fc.constantFrom(...world.threadIds, world.threadIds.join(",")),
        invalid: fc.constantFrom("no-such-thread", "a,", ",", "", "x".repeat(LIMITS.threadIdChars + 1)),
      };
    case "topic":
    case "topic_name":
      return {
        valid: fc.constantFrom("build", "release.v2", "a/b"),
        invalid: fc.constantFrom("-bad", "", "x".repeat(LIMITS.topicChars + 1)),
      };
    case "paths":
    case "file_reservation_paths":
      return {
        valid: fc.array(fc.constantFrom(...VALID_PATTERNS), { minLength: 1, maxLength: 3 }),
        invalid: fc.array(fc.constantFrom(...VALID_PATTERNS, ...INVALID_PATTERNS), { maxLength: 4 }),
      };
    case "attachment_paths":
      return {
        valid: fc.array(fc.constantFrom("notes.txt", "docs/plan.md", join(world.projectDir, "notes.txt")), {
          maxLength: 2,
        }),
        invalid: fc.array(fc.constantFrom("../outside.txt", "missing.bin", "docs", "", "/etc/hostname"), {
          minLength: 1,
          maxLength: 2,
        }),
      };
    case "code_repo_path":
      return {
        valid: fc.constant(world.repoDir),
        invalid: fc.constantFrom(world.projectDir, join(world.sandboxDir, "missing"), "relative/repo", ""),
      };
    case "since_ts":
      return {
        valid: fc.constantFrom(
          "2026-01-01T00:00:00Z",
          "2000-01-01T00:00:00.000Z",
          "2999-01-01T00:00:00.000Z",
        ),
        invalid: fc.constantFrom("yesterday", "", "9999-99-99", "2026-13-45T99:99:99Z"),
      };
    case "policy":
      return {
        valid: fc.constantFrom("open", "auto", "contacts_only", "block_all"),
        invalid: fc.constantFrom("OPEN", "never", ""),
      };
    case "importance":
      return {
        valid: fc.constantFrom("low", "normal", "high", "urgent"),
        invalid: fc.constantFrom("URGENT", ""),
      };
    case "payload":
      return { valid: fc.jsonValue({ maxDepth: 3 }), invalid: anyValue };
    case "limit":
    case "inbox_limit":
      return between(1, LIMITS.fetchLimit, [1.5]);
    case "per_thread_limit":
      return between(1, LIMITS.summaryMessagesPerThread, [1.5]);
    case "ttl_seconds":
    case "extend_seconds":
    case "file_reservation_ttl_seconds":
      return between(60, 7 * 24 * 3600, [0, 2.5, LIMITS.ttlSeconds + 1]);
    case "program":
    case "model":
    case "task_description":
    case "reason":
    case "note":
    case "subject":
    case "body_md":
    case "welcome_subject":
    case "welcome_body":
    case "subject_prefix":
    case "query":
    case "file_reservation_reason":
      return text;
    default:
      return {};
  }
}

/** A value of a JSON Schema type, for parameters `paramValues` does not know. */
function byType(schema: { type?: unknown }): fc.Arbitrary<unknown> {
  switch (schema.type) {
    case "boolean":
      return fc.boolean();
    case "integer":
    case "number":
      return fc.integer({ min: 1, max: 100 });
    case "array":
      return fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 3 });
    default:
      return fc.string({ minLength: 1, maxLength: 20 });
  }
}

/** Token fields every tool accepts besides its schema: valid tokens, wrong ones, wrong types. */
const tokenFields = (world: World) =>
  fc.record(
    {
      sender_token: fc.oneof(fc.constantFrom(...world.tokens, "wrong-token", ""), anyValue),
      agent_token: fc.oneof(fc.constantFrom(...world.tokens, "wrong-token"), anyValue),
      target_token: fc.oneof(fc.constantFrom(...world.tokens), anyValue),
    },
    { requiredKeys: [] },
  );

/** The schema a tool lists: its parameters and which are required. */
export interface ToolSchema {
  properties?: Record<string, { type?: unknown }>;
  required?: string[];
}

/**
 * Arguments for a tool with JSON Schema `schema`, in three flavours: valid arguments with zero to two
 * parameters broken (replaced by an invalid value, a value of any type, null, or dropped); every
 * parameter drawn from anything at all; and a random object. Extra fields and tokens come and go.
 */
export function toolArguments(schema: ToolSchema, world: World): fc.Arbitrary<Record<string, unknown>> {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  // A random string could name a real repository on this machine: the guard tools get only the
  // sandbox's paths as strings.
  const hostile = (param: string) =>
    param === "code_repo_path" ? anyValue.filter((v) => typeof v !== "string") : anyValue;
  const broken = (param: string) => {
    const { invalid } = paramValues(param, world);
    return fc.oneof(
      ...(invalid ? [{ weight: 3, arbitrary: invalid }] : []),
      { weight: 2, arbitrary: hostile(param) },
      { weight: 1, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );
  };
  const validFields = Object.fromEntries(
    Object.entries(properties).map(([param, s]) => [param, paramValues(param, world).valid ?? byType(s)]),
  );
  const valid = fc.record(validFields, { requiredKeys: [...required] as never[] });
  const params = Object.keys(properties);
  const mutated = fc
    .tuple(
      valid,
      params.length
        ? fc.array(
            fc.constantFrom(...params).chain((p) => broken(p).map((v) => [p, v] as const)),
            {
              maxLength: 2,
            },
          )
        : fc.constant([] as (readonly [string, unknown])[]),
    )
    .map(([args, breaks]) => {
      const out: Record<string, unknown> = { ...args };
      for (const [p, v] of breaks) {
        if (v === undefined) delete out[p];
        else out[p] = v;
      }
      return out;
    });
  const wild = fc.record(Object.fromEntries(params.map((p) => [p, fc.oneof(validFields[p]!, broken(p))])), {
    requiredKeys: [],
  });
  const random = fc.dictionary(fc.string({ maxLength: 16 }), anyValue, { maxKeys: 6 });
  return fc
    .tuple(
      fc.oneof(
        { weight: 6, arbitrary: mutated },
        { weight: 3, arbitrary: wild },
        { weight: 1, arbitrary: random },
      ),
      fc.option(fc.dictionary(fc.string({ maxLength: 12 }), anyValue, { maxKeys: 3 }), { freq: 4 }),
      fc.option(tokenFields(world), { freq: 3 }),
    )
    .map(([args, extra, tokens]) => {
      const all: Record<string, unknown> = { ...(extra ?? {}), ...(tokens ?? {}), ...args };
      // What JSON can carry: an undefined field is an absent one.
      for (const key of Object.keys(all)) if (all[key] === undefined) delete all[key];
      return all;
    });
}
