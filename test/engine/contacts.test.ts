import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  acknowledgeMessage,
  CONTACT_WINDOW_SECONDS,
  ensureProject,
  fetchInbox,
  isPigeonholeError,
  listContacts,
  type Mailbox,
  openMailbox,
  registerAgent,
  requestContact,
  respondContact,
  sendMessage,
  setContactPolicy,
} from "../../engine/index.js";

let home: string;
let mb: Mailbox;
let clock: Date;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "ph-contacts-"));
  clock = new Date("2026-03-01T12:00:00Z");
  mb = openMailbox({ home, archive: false, now: () => clock });
  ensureProject(mb, { human_key: "/p/one" });
  ensureProject(mb, { human_key: "/p/two" });
  for (const [project, name] of [
    ["p-one", "Rita"],
    ["p-one", "Sam"],
    ["p-one", "Cora"],
    ["p-two", "Xena"],
  ] as const) {
    registerAgent(mb, { project_key: project, program: "test", model: "m", name });
  }
});

afterEach(async () => {
  await mb.close();
  rmSync(home, { recursive: true, force: true });
});

const advance = (seconds: number) => {
  clock = new Date(clock.getTime() + seconds * 1000);
};

/** Xena (project two) or Sam (project one) writes to Rita; returns "ok" or the error code. */
async function attempt(from: "Xena" | "Sam", to = "Rita@p-one"): Promise<string> {
  try {
    await sendMessage(mb, {
      project_key: from === "Xena" ? "p-two" : "p-one",
      sender_name: from,
      to,
      subject: "hi",
      body_md: "x",
    });
    return "ok";
  } catch (error) {
    if (isPigeonholeError(error)) return error.code;
    throw error;
  }
}

async function withPolicy<T>(
  policy: "open" | "auto" | "contacts_only" | "block_all",
  fn: () => Promise<T>,
): Promise<T> {
  setContactPolicy(mb, { project_key: "p-one", agent_name: "Rita", policy });
  return fn();
}

/** Relationship states between Xena (sender, other project) and Rita (recipient), each set up from scratch. */
const STATES: Record<string, () => Promise<void>> = {
  none: async () => {},
  "co-recipients in a thread": async () => {
    // Cora writes to both; Rita and Xena share the thread without ever writing to each other.
    setContactPolicy(mb, { project_key: "p-two", agent_name: "Xena", policy: "open" });
    await sendMessage(mb, {
      project_key: "p-one",
      sender_name: "Cora",
      to: ["Rita", "Xena@p-two"],
      subject: "kickoff",
      body_md: "x",
    });
  },
  "recipient wrote first": async () => {
    setContactPolicy(mb, { project_key: "p-two", agent_name: "Xena", policy: "open" });
    await sendMessage(mb, {
      project_key: "p-one",
      sender_name: "Rita",
      to: "Xena@p-two",
      subject: "q",
      body_md: "x",
    });
  },
  "approved link": async () => {
    await requestContact(mb, {
      project_key: "p-two",
      from_agent: "Xena",
      to_agent: "Rita",
      to_project: "p-one",
    });
    respondContact(mb, { project_key: "p-one", to_agent: "Rita", from_agent: "Xena@p-two", accept: true });
  },
  "expired approval": async () => {
    await requestContact(mb, { project_key: "p-two", from_agent: "Xena", to_agent: "Rita@p-one" });
    respondContact(mb, {
      project_key: "p-one",
      to_agent: "Rita",
      from_agent: "Xena",
      accept: true,
      ttl_seconds: 60,
    });
    advance(61);
  },
  "pending request": async () => {
    await requestContact(mb, { project_key: "p-two", from_agent: "Xena", to_agent: "Rita@p-one" });
  },
  "declined request": async () => {
    await requestContact(mb, { project_key: "p-two", from_agent: "Xena", to_agent: "Rita@p-one" });
    respondContact(mb, { project_key: "p-one", to_agent: "Rita", from_agent: "Xena", accept: false });
  },
};

// Expected outcome of Xena → Rita for each policy of Rita's and each state.
const MATRIX: Record<string, Record<string, string>> = {
  open: {
    none: "ok",
    "co-recipients in a thread": "ok",
    "recipient wrote first": "ok",
    "approved link": "ok",
    "expired approval": "ok",
    "pending request": "ok",
    "declined request": "CONTACT_BLOCKED",
  },
  auto: {
    none: "CONTACT_REQUIRED",
    "co-recipients in a thread": "ok",
    "recipient wrote first": "ok",
    "approved link": "ok",
    "expired approval": "CONTACT_REQUIRED",
    "pending request": "CONTACT_REQUIRED",
    "declined request": "CONTACT_BLOCKED",
  },
  contacts_only: {
    none: "CONTACT_REQUIRED",
    "co-recipients in a thread": "CONTACT_REQUIRED",
    "recipient wrote first": "ok",
    "approved link": "ok",
    "expired approval": "CONTACT_REQUIRED",
    "pending request": "CONTACT_REQUIRED",
    "declined request": "CONTACT_BLOCKED",
  },
  block_all: {
    none: "CONTACT_BLOCKED",
    "co-recipients in a thread": "CONTACT_BLOCKED",
    "recipient wrote first": "CONTACT_BLOCKED",
    "approved link": "CONTACT_BLOCKED",
    "expired approval": "CONTACT_BLOCKED",
    "pending request": "CONTACT_BLOCKED",
    "declined request": "CONTACT_BLOCKED",
  },
};

describe("contact policy matrix (cross-project sender)", () => {
  for (const [policy, row] of Object.entries(MATRIX)) {
    for (const [state, expected] of Object.entries(row)) {
      test(`${policy} × ${state} → ${expected}`, async () => {
        await STATES[state]!();
        const outcome = await withPolicy(policy as "open", () => attempt("Xena"));
        expect(outcome).toBe(expected);
      });
    }
  }
});

describe("same-project sender", () => {
  test.each([
    ["open", "ok"],
    ["auto", "ok"],
    ["contacts_only", "CONTACT_REQUIRED"],
    ["block_all", "CONTACT_BLOCKED"],
  ] as const)("%s → %s", async (policy, expected) => {
    expect(await withPolicy(policy, () => attempt("Sam", "Rita"))).toBe(expected);
  });
});

describe("rules around the matrix", () => {
  test("a refused send stores nothing, even for the allowed recipients", async () => {
    setContactPolicy(mb, { project_key: "p-one", agent_name: "Rita", policy: "block_all" });
    await expect(
      sendMessage(mb, {
        project_key: "p-one",
        sender_name: "Sam",
        to: ["Cora", "Rita"],
        subject: "s",
        body_md: "b",
      }),
    ).rejects.toMatchObject({ code: "CONTACT_BLOCKED" });
    expect(fetchInbox(mb, { project_key: "p-one", agent_name: "Cora" })).toHaveLength(0);
  });

  test("CONTACT_REQUIRED says how to ask for contact", async () => {
    const error = await sendMessage(mb, {
      project_key: "p-two",
      sender_name: "Xena",
      to: "Rita@p-one",
      subject: "s",
      body_md: "b",
    }).catch((e) => e);
    expect(error.code).toBe("CONTACT_REQUIRED");
    expect(error.message).toContain("request_contact");
    expect(error.message).toContain("to_project: p-one");
    expect(error.data.recipients).toEqual([{ name: "Rita", project: "p-one", policy: "auto" }]);
  });

  test("the intro message of a request is ack-required and reaches a contacts_only agent", async () => {
    setContactPolicy(mb, { project_key: "p-one", agent_name: "Rita", policy: "contacts_only" });
    const result = await requestContact(mb, {
      project_key: "p-two",
      from_agent: "Xena",
      to_agent: "Rita@p-one",
      reason: "shared API",
    });
    expect(result).toEqual({
      from: "Xena",
      from_project: "p-two",
      to: "Rita",
      to_project: "p-one",
      status: "pending",
      expires_ts: "2026-03-08T12:00:00.000Z",
    });
    const [intro] = fetchInbox(mb, { project_key: "p-one", agent_name: "Rita", include_bodies: true });
    expect(intro?.subject).toBe("Contact request from Xena");
    expect(intro?.ack_required).toBe(true);
    expect(intro?.body_md).toContain("shared API");
    acknowledgeMessage(mb, { project_key: "p-one", agent_name: "Rita", message_id: intro!.id });
  });

  test("a request to a block_all agent is refused", async () => {
    setContactPolicy(mb, { project_key: "p-one", agent_name: "Rita", policy: "block_all" });
    await expect(
      requestContact(mb, { project_key: "p-two", from_agent: "Xena", to_agent: "Rita@p-one" }),
    ).rejects.toMatchObject({
      code: "CONTACT_BLOCKED",
    });
  });

  test("approval lets both sides write, and lapses after its ttl", async () => {
    await STATES["approved link"]!();
    setContactPolicy(mb, { project_key: "p-two", agent_name: "Xena", policy: "contacts_only" });
    setContactPolicy(mb, { project_key: "p-one", agent_name: "Rita", policy: "contacts_only" });
    expect(await attempt("Xena")).toBe("ok");
    const back = await sendMessage(mb, {
      project_key: "p-one",
      sender_name: "Rita",
      to: "Xena@p-two",
      subject: "re",
      body_md: "x",
    });
    expect(back.deliveries[0]?.project).toBe("p-two");
    advance(2_592_001);
    // Rita wrote to Xena, so Xena may still answer Rita; a third agent may not.
    expect(await attempt("Xena")).toBe("ok");
    setContactPolicy(mb, { project_key: "p-one", agent_name: "Cora", policy: "contacts_only" });
    expect(await attempt("Xena", "Cora@p-one")).toBe("CONTACT_REQUIRED");
  });

  test("respond_contact without a request is NOT_FOUND; answers report whether they changed anything", async () => {
    expect(() =>
      respondContact(mb, { project_key: "p-one", to_agent: "Rita", from_agent: "Xena", accept: true }),
    ).toThrow(/has not requested contact/);
    await STATES["pending request"]!();
    const first = respondContact(mb, {
      project_key: "p-one",
      to_agent: "Rita",
      from_agent: "Xena",
      accept: true,
    });
    expect(first).toMatchObject({ from: "Xena", to: "Rita", approved: true, updated: true });
    expect(first.expires_ts).toBe("2026-03-31T12:00:00.000Z");
  });

  test("list_contacts shows both directions and expiry", async () => {
    await STATES["pending request"]!();
    expect(listContacts(mb, { project_key: "p-two", agent_name: "Xena" })).toMatchObject([
      { direction: "outgoing", from: "Xena", to: "Rita", status: "pending" },
    ]);
    expect(listContacts(mb, { project_key: "p-one", agent_name: "Rita" })).toMatchObject([
      { direction: "incoming", from: "Xena", to: "Rita", status: "pending" },
    ]);
    advance(604_801);
    expect(listContacts(mb, { project_key: "p-one", agent_name: "Rita" })[0]?.status).toBe("expired");
  });

  test("a declined asker may ask again but stays blocked until approved", async () => {
    await STATES["declined request"]!();
    await expect(
      requestContact(mb, { project_key: "p-two", from_agent: "Xena", to_agent: "Rita@p-one" }),
    ).rejects.toMatchObject({
      code: "CONTACT_BLOCKED",
    });
    respondContact(mb, { project_key: "p-one", to_agent: "Rita", from_agent: "Xena", accept: true });
    expect(await attempt("Xena")).toBe("ok");
  });

  test("set_contact_policy validates the policy and returns the wire shape", () => {
    expect(setContactPolicy(mb, { project_key: "p-one", agent_name: "rita", policy: "open" })).toEqual({
      agent: "Rita",
      policy: "open",
    });
    expect(() =>
      setContactPolicy(mb, { project_key: "p-one", agent_name: "Rita", policy: "friends" as "open" }),
    ).toThrow(/policy/);
  });

  test("a shared thread admits contact for 30 days after the last activity of both", async () => {
    await STATES["co-recipients in a thread"]!();
    expect(await attempt("Xena")).toBe("ok");
    advance(CONTACT_WINDOW_SECONDS + 1);
    expect(await attempt("Xena")).toBe("CONTACT_REQUIRED");
    // New activity of both in a thread renews it.
    await sendMessage(mb, {
      project_key: "p-one",
      sender_name: "Cora",
      to: ["Rita", "Xena@p-two"],
      subject: "again",
      body_md: "x",
    });
    expect(await attempt("Xena")).toBe("ok");
  });

  test("self-requests are refused", async () => {
    await expect(
      requestContact(mb, { project_key: "p-one", from_agent: "Rita", to_agent: "Rita" }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });
});
