import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import * as engine from "../../engine/index.js";
import { runFts, searchSql } from "../../engine/search.js";

let home: string;
let mb: engine.Mailbox;
const P = "/repo/app";
const Q = "/repo/other";
const ids: Record<string, number> = {};

async function send(
  key: string,
  project: string,
  sender: string,
  to: string | string[],
  subject: string,
  body: string,
  more: { cc?: string[]; bcc?: string[] } = {},
): Promise<void> {
  const sent = await engine.sendMessage(mb, {
    project_key: project,
    sender_name: sender,
    to,
    subject,
    body_md: body,
    ...more,
  });
  ids[key] = sent.deliveries[0]!.payload.id;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "ph-search-"));
  mb = engine.openMailbox({ home, archive: false });
  engine.ensureProject(mb, { human_key: P });
  engine.ensureProject(mb, { human_key: Q });
  for (const name of ["Alice", "Bob", "Carol", "Dave", "Erin"]) {
    engine.registerAgent(mb, { project_key: P, program: "test", model: "m", name });
  }
  for (const name of ["Zed", "Yan"])
    engine.registerAgent(mb, { project_key: Q, program: "test", model: "m", name });

  await send(
    "release",
    P,
    "Alice",
    "Bob",
    "Release checklist",
    "The staging deploy failed twice; rollback done. Ping user@example.com about the C++ toolchain, " +
      "the foo-bar flag and the a.b setting.",
    { cc: ["Carol"], bcc: ["Erin"] },
  );
  await send("window", P, "Bob", "Alice", "Deploy window", "Friday works for production.");
  await send(
    "notes",
    P,
    "Carol",
    "Alice",
    "Weekly notes",
    "Items: coffee, deploy, hiring, lunch, parking, budget, offsite, travel, laptops, badges.",
  );
  await send("migration", P, "Alice", "Carol", "Database tables", "Migrations are ready; migrating tonight.");
  await send("build", P, "Bob", "Carol", "Main is red", "The build is broken on main; fix the failing test.");
  await send("coffee", P, "Dave", "Carol", "Coffee", "Broken coffee machine on floor 3.");
  await send("otherProject", Q, "Zed", "Yan", "Deploy elsewhere", "deploy deploy staging");
  engine.setContactPolicy(mb, { project_key: P, agent_name: "Alice", policy: "open" });
  await send(
    "crossProject",
    Q,
    "Zed",
    "Alice@repo-app",
    "Cross team deploy",
    "Heads up from the other team.",
  );
  // Strong matches Alice cannot see, to show that visibility is applied before the limit.
  for (let i = 0; i < 25; i++) {
    await send(`invoiceHidden${i}`, P, "Dave", "Carol", "Invoice invoice", "invoice invoice invoice");
  }
  for (let i = 0; i < 4; i++) {
    await send(
      `invoiceMine${i}`,
      P,
      "Bob",
      "Alice",
      `Note ${i}`,
      `Somewhere in here is an invoice, item ${i}.`,
    );
  }
});

afterAll(async () => {
  await mb.close();
  rmSync(home, { recursive: true, force: true });
});

function search(query: string, extra: { agent_name?: string; limit?: number; project_key?: string } = {}) {
  return engine.searchMessages(mb, { project_key: P, query, ...extra }).result;
}

function found(query: string, extra: { agent_name?: string; limit?: number; project_key?: string } = {}) {
  return search(query, extra)
    .map((hit) => hit.id)
    .sort((a, b) => a - b);
}

function idsOf(...keys: string[]): number[] {
  return keys.map((k) => ids[k] as number).sort((a, b) => a - b);
}

function errorOf(fn: () => unknown): engine.PigeonholeError {
  try {
    fn();
  } catch (error) {
    if (engine.isPigeonholeError(error)) return error;
    throw error;
  }
  throw new Error("expected a PigeonholeError");
}

describe("query language", () => {
  test("adjacent words must all match", () => {
    expect(found("staging rollback")).toEqual(idsOf("release"));
    expect(found("staging coffee")).toEqual([]);
    expect(found("staging AND rollback")).toEqual(idsOf("release"));
  });

  test("OR, NOT and -word", () => {
    expect(found("coffee OR rollback")).toEqual(idsOf("release", "notes", "coffee"));
    expect(found("broken NOT coffee")).toEqual(idsOf("build"));
    expect(found("broken -coffee")).toEqual(idsOf("build"));
    expect(found("deploy -staging -friday")).toEqual(idsOf("notes"));
  });

  test("phrases keep word order; prefixes match word starts; stems match", () => {
    expect(found('"build is broken"')).toEqual(idsOf("build"));
    expect(found('"broken build"')).toEqual([]);
    expect(found("rollb*")).toEqual(idsOf("release"));
    expect(found("migr*")).toEqual(idsOf("migration"));
    expect(found("migration")).toEqual(idsOf("migration"));
  });

  test("parentheses group", () => {
    expect(found("(coffee OR rollback) staging")).toEqual(idsOf("release"));
    expect(found("(coffee OR rollback) -staging")).toEqual(idsOf("notes", "coffee"));
  });

  test("punctuation and FTS5 syntax in words are searched as text", () => {
    for (const query of ["user@example.com", "C++", "foo-bar", "a.b", "toolchain,", "rollback;"]) {
      expect(found(query), query).toEqual(idsOf("release"));
    }
    for (const query of ["subject:release", "NEAR(deploy staging)", "^release", "deploy:", "{a b}", "x+y"]) {
      expect(() => search(query), query).not.toThrow();
    }
    expect(found("release:checklist")).toEqual(idsOf("release"));
  });

  test("a blank or punctuation-only query returns no hit", () => {
    expect(search("")).toEqual([]);
    expect(search("   \n\t")).toEqual([]);
    expect(search("&& --")).toEqual([]);
  });

  test.each([
    ['"deploy', /phrase that is never closed/],
    ["(deploy OR build", /never closed/],
    ["deploy)", /no matching opening/],
    ["deploy OR", /OR ends the query/],
    ["AND deploy", /nothing before it/],
    ["deploy AND OR build", /AND is followed by OR/],
    ["deploy ()", /empty parentheses/],
    ["NOT deploy", /only excluded terms/],
    ["-deploy -build", /only excluded terms/],
    ["deploy *", /must follow a word/],
  ])("malformed %j → INVALID_ARGUMENT with the syntax, no SQLite wording", (query, problem) => {
    const error = errorOf(() => search(query));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(problem);
    expect(error.message).toContain(engine.SEARCH_SYNTAX_HELP);
    expect(error.message).not.toMatch(/fts5|sqlite/i);
  });

  test("a query over the size limit is TOO_LARGE, not truncated", () => {
    const query = "deploy ".repeat(Math.ceil(engine.LIMITS.searchQueryChars / 7) + 1);
    expect(errorOf(() => search(query)).code).toBe("TOO_LARGE");
    expect(() => search("deploy ".repeat(Math.floor(engine.LIMITS.searchQueryChars / 7)))).not.toThrow();
  });
});

describe("ranking, snippets, limit", () => {
  test("a subject hit ranks above body-only hits", () => {
    const hits = search("deploy");
    expect(hits.map((h) => h.id).sort((a, b) => a - b)).toEqual(idsOf("release", "window", "notes"));
    expect(hits[0]!.id).toBe(ids.window);
    expect(hits[0]!.rank).toBeLessThan(hits[1]!.rank);
    expect(hits[1]!.rank).toBeLessThanOrEqual(hits[2]!.rank);
  });

  test("the snippet highlights the hit in the body, else in the subject", () => {
    const [release] = search("rollback");
    expect(release!.snippet).toContain("**rollback**");
    expect(release!.snippet).toContain("staging deploy failed");
    const [window] = search("window");
    expect(window!.snippet).toBe("Deploy **window**");
    const [build] = search('"build is broken"');
    expect(build!.snippet).toBe("The **build is broken** on main; fix the failing test.");
  });

  test("results carry the header fields of TOOLS.md", () => {
    const [hit] = search("rollback", { agent_name: "Alice" });
    expect(Object.keys(hit!).sort()).toEqual(
      [
        "id",
        "subject",
        "importance",
        "ack_required",
        "created_ts",
        "thread_id",
        "topic",
        "from",
        "to",
        "cc",
        "bcc",
        "snippet",
        "rank",
      ].sort(),
    );
    expect(hit).toMatchObject({
      id: ids.release,
      subject: "Release checklist",
      importance: "normal",
      ack_required: false,
      from: "Alice",
      to: ["Bob"],
      cc: ["Carol"],
      bcc: ["Erin"],
    });
  });

  test("limit caps the page, keeping the best hits", () => {
    const hits = search("deploy", { limit: 1 });
    expect(hits.map((h) => h.id)).toEqual([ids.window]);
    expect(errorOf(() => search("deploy", { limit: 0 })).code).toBe("INVALID_ARGUMENT");
  });

  test("visibility is applied before the limit, so hidden matches never shrink the page", () => {
    expect(search("invoice")).toHaveLength(20);
    const mine = search("invoice", { agent_name: "Alice", limit: 3 });
    expect(mine).toHaveLength(3);
    expect(mine.every((h) => h.from === "Bob" && h.to.includes("Alice"))).toBe(true);
    expect(search("invoice", { agent_name: "Alice" })).toHaveLength(4);
  });
});

describe("visibility", () => {
  test("sender, to and cc recipients find the message; only the sender sees the BCC", () => {
    for (const [agent, bcc] of [
      ["Alice", ["Erin"]],
      ["Bob", []],
      ["Carol", []],
    ] as const) {
      const hits = search("rollback", { agent_name: agent });
      expect(
        hits.map((h) => h.id),
        agent,
      ).toEqual([ids.release]);
      expect(hits[0]!.bcc, agent).toEqual(bcc);
    }
  });

  test("a BCC recipient finds it and sees only its own name in bcc", () => {
    const hits = search("rollback", { agent_name: "erin" });
    expect(hits.map((h) => h.id)).toEqual([ids.release]);
    expect(hits[0]!.bcc).toEqual(["Erin"]);
  });

  test("an outsider of the same project finds nothing", () => {
    expect(search("rollback", { agent_name: "Dave" })).toEqual([]);
    expect(found("deploy", { agent_name: "Dave" })).toEqual([]);
  });

  test("the operator view finds every message of the project, with no BCC names", () => {
    const hits = search("rollback");
    expect(hits.map((h) => h.id)).toEqual([ids.release]);
    expect(hits[0]!.bcc).toEqual([]);
  });

  test("another project's messages stay out; mail received from another project is the viewer's", () => {
    expect(found("deploy")).toEqual(idsOf("release", "window", "notes"));
    expect(found("deploy", { agent_name: "Alice" })).toEqual(
      idsOf("release", "window", "notes", "crossProject"),
    );
    expect(found("deploy", { agent_name: "Bob" })).toEqual(idsOf("release", "window"));
    expect(found("deploy", { project_key: Q })).toEqual(idsOf("otherProject", "crossProject"));
    expect(found("deploy", { project_key: Q, agent_name: "Yan" })).toEqual(idsOf("otherProject"));
  });

  test("unknown agent or project → NOT_FOUND", () => {
    expect(errorOf(() => search("deploy", { agent_name: "Nobody" })).code).toBe("NOT_FOUND");
    expect(errorOf(() => search("deploy", { agent_name: "Zed" })).code).toBe("NOT_FOUND");
    expect(errorOf(() => search("deploy", { project_key: "/repo/missing" })).code).toBe("NOT_FOUND");
  });
});

test("an FTS5 error that slips past the parser still becomes INVALID_ARGUMENT", () => {
  const raw = mb.db.prepare("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?");
  for (const expression of ['"unterminated', "deploy AND", "nosuchcolumn: x", "NEAR("]) {
    const error = errorOf(() => runFts(() => raw.all(expression)));
    expect(error.code, expression).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain(engine.SEARCH_SYNTAX_HELP);
    expect(error.message).not.toMatch(/fts5|sqlite/i);
  }
  const other = new Error("disk on fire");
  expect(() =>
    runFts(() => {
      throw other;
    }),
  ).toThrow(other);
});

describe("query plan", () => {
  test.each([false, true])(
    "FTS5 drives in rank order and each hit is a primary-key probe (viewer: %s)",
    (viewer) => {
      const plan = mb.db
        .prepare(`EXPLAIN QUERY PLAN ${searchSql(viewer)}`)
        .all({ match: '"x"', project: 1, viewer: 1, limit: 20 })
        .map((row) => (row as { detail: string }).detail);
      expect(plan[0]).toMatch(/^SCAN messages_fts VIRTUAL TABLE/);
      expect(plan).toContain("SEARCH m USING INTEGER PRIMARY KEY (rowid=?)");
      expect(plan).toContain("SEARCH s USING INTEGER PRIMARY KEY (rowid=?)");
      expect(plan.join("\n")).not.toMatch(/TEMP B-TREE/);
      if (viewer) expect(plan).toContain("SEARCH rv USING PRIMARY KEY (message_id=? AND agent_id=?)");
    },
  );
});
