import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import * as engine from "../../engine/index.js";

const dirs: string[] = [];
const mailboxes: engine.Mailbox[] = [];
afterEach(async () => {
  for (const mb of mailboxes.splice(0)) await mb.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A mailbox with a fake clock, project `app` and agents Alice, Bob, Carol. */
function setup(options: { archive?: boolean } = {}) {
  const home = mkdtempSync(join(tmpdir(), "ph-res-"));
  dirs.push(home);
  const clock = { now: new Date("2026-01-01T00:00:00.000Z") };
  const mb = engine.openMailbox({ home, archive: options.archive ?? false, now: () => clock.now });
  mailboxes.push(mb);
  const p = engine.ensureProject(mb, { human_key: "app" });
  for (const name of ["Alice", "Bob", "Carol"]) {
    engine.registerAgent(mb, { project_key: p.slug, program: "test", model: "m", name });
  }
  const advance = (seconds: number) => {
    clock.now = new Date(clock.now.getTime() + seconds * 1000);
  };
  const reserve = (agent: string, paths: string[], extra: Partial<engine.FileReservationPathsInput> = {}) =>
    engine.fileReservationPaths(mb, { project_key: p.slug, agent_name: agent, paths, ...extra });
  return { mb, project: p.slug, advance, reserve, clock };
}

function expectError(fn: () => unknown, code: engine.ErrorCode, text?: RegExp): engine.PigeonholeError {
  try {
    fn();
  } catch (error) {
    expect(engine.isPigeonholeError(error)).toBe(true);
    const e = error as engine.PigeonholeError;
    expect(e.code).toBe(code);
    if (text) expect(e.message).toMatch(text);
    return e;
  }
  throw new Error("expected an error");
}

describe("file_reservation_paths", () => {
  test("grants with the documented shape and defaults", () => {
    const { reserve } = setup();
    const r = reserve("Alice", ["src/**", "./README.md"], { reason: "refactor" });
    expect(r.conflicts).toEqual([]);
    expect(r.granted).toEqual([
      {
        id: 1,
        path_pattern: "src/**",
        exclusive: true,
        reason: "refactor",
        expires_ts: "2026-01-01T01:00:00.000Z",
      },
      {
        id: 2,
        path_pattern: "README.md",
        exclusive: true,
        reason: "refactor",
        expires_ts: "2026-01-01T01:00:00.000Z",
      },
    ]);
  });

  test("exclusive vs exclusive conflicts, both ways, naming the holder; still granted", () => {
    const { reserve } = setup();
    const a = reserve("Alice", ["src/a.ts"], { ttl_seconds: 600 });
    const b = reserve("Bob", ["src/**"]);
    expect(b.granted).toHaveLength(1);
    expect(b.conflicts).toEqual([
      {
        path: "src/**",
        holders: [
          {
            agent: "Alice",
            path_pattern: "src/a.ts",
            exclusive: true,
            expires_ts: "2026-01-01T00:10:00.000Z",
            reservation_id: a.granted[0]!.id,
          },
        ],
      },
    ]);
    const c = reserve("Carol", ["src/a.ts", "docs/x.md"]);
    expect(c.conflicts).toHaveLength(1);
    expect(c.conflicts[0]!.path).toBe("src/a.ts");
    expect(c.conflicts[0]!.holders.map((h) => h.agent)).toEqual(["Alice", "Bob"]);
  });

  test("shared + shared never conflicts; exclusive vs shared conflicts either way", () => {
    const { reserve } = setup();
    reserve("Alice", ["src/**"], { exclusive: false });
    expect(reserve("Bob", ["src/a.ts"], { exclusive: false }).conflicts).toEqual([]);
    const exclusiveOverShared = reserve("Carol", ["src/a.ts"]);
    expect(exclusiveOverShared.conflicts[0]!.holders.map((h) => [h.agent, h.exclusive])).toEqual([
      ["Alice", false],
      ["Bob", false],
    ]);
    const sharedOverExclusive = reserve("Alice", ["src/a.ts"], { exclusive: false });
    expect(sharedOverExclusive.conflicts[0]!.holders.map((h) => h.agent)).toEqual(["Carol"]);
  });

  test("the agent's own reservations never conflict", () => {
    const { reserve } = setup();
    reserve("Alice", ["src/**"]);
    expect(reserve("Alice", ["src/a.ts", "src/*.ts"]).conflicts).toEqual([]);
  });

  test("globs that cannot overlap do not conflict (*.md vs docs/x.md)", () => {
    const { reserve } = setup();
    reserve("Alice", ["*.md"]);
    expect(reserve("Bob", ["docs/x.md"]).conflicts).toEqual([]);
    expect(reserve("Bob", ["**/*.md"]).conflicts.map((c) => c.path)).toEqual(["**/*.md"]);
  });

  test("reservations in another project never conflict", () => {
    const { reserve, mb } = setup();
    const other = engine.ensureProject(mb, { human_key: "other" }).slug;
    engine.registerAgent(mb, { project_key: other, program: "t", model: "m", name: "Dave" });
    engine.fileReservationPaths(mb, { project_key: other, agent_name: "Dave", paths: ["src/**"] });
    expect(reserve("Alice", ["src/**"]).conflicts).toEqual([]);
  });

  test("expired and released reservations do not conflict", () => {
    const { reserve, advance, mb, project } = setup();
    reserve("Alice", ["src/**"], { ttl_seconds: 60 });
    reserve("Carol", ["lib/**"]);
    engine.releaseFileReservations(mb, { project_key: project, agent_name: "Carol" });
    advance(61);
    expect(reserve("Bob", ["src/a.ts", "lib/a.ts"]).conflicts).toEqual([]);
  });

  test("re-reserving the same pattern updates the active reservation in place", () => {
    const { reserve, advance, mb, project } = setup();
    const first = reserve("Alice", ["src/**"], { ttl_seconds: 600 });
    advance(120);
    const again = reserve("Alice", ["src/**", "src/**"], {
      ttl_seconds: 3600,
      exclusive: false,
      reason: "read",
    });
    expect(again.granted).toEqual([
      {
        id: first.granted[0]!.id,
        path_pattern: "src/**",
        exclusive: false,
        reason: "read",
        expires_ts: "2026-01-01T01:02:00.000Z",
      },
    ]);
    expect(engine.listFileReservations(mb, { project_key: project }).file_reservations).toHaveLength(1);
  });

  test("empty paths, ttl bounds and unknown agents are refused", () => {
    const { reserve } = setup();
    expectError(() => reserve("Alice", []), "INVALID_ARGUMENT", /paths list cannot be empty/);
    expectError(() => reserve("Alice", ["a"], { ttl_seconds: 59 }), "INVALID_ARGUMENT", /ttl_seconds/);
    expectError(() => reserve("Alice", ["a"], { ttl_seconds: 31 * 24 * 3600 }), "TOO_LARGE", /ttl_seconds/);
    expectError(
      () =>
        reserve(
          "Alice",
          Array.from({ length: engine.LIMITS.reservationPathsPerCall + 1 }, (_, i) => `f${i}`),
        ),
      "TOO_LARGE",
    );
    expectError(() => reserve("Nobody", ["a"]), "NOT_FOUND", /Nobody/);
  });

  test("a retired agent cannot reserve", () => {
    const { reserve, mb, project } = setup();
    engine.retireAgent(mb, { project_key: project, agent_name: "Bob" });
    expectError(() => reserve("Bob", ["a"]), "AGENT_RETIRED");
  });
});

describe("pattern validation", () => {
  const refused: Array<[string, RegExp]> = [
    ["/etc/passwd", /absolute/],
    ["C:\\x", /backslash/],
    ["C:/x", /absolute/],
    ["\\\\server\\share", /backslash/],
    ["~/x", /absolute/],
    ["../x", /\.\./],
    ["src/../../x", /\.\./],
    ["src/{a,..}/x", /\.\./],
    ["a//b", /empty path segment/],
    ["a\u0000b", /control characters/],
    ["a\nb", /control characters/],
    ["src\\a.ts", /backslash/],
    [".", /repository root/],
    ["!src/**", /negation/],
  ];
  test.each(refused)("%j is refused", (pattern, reason) => {
    const e = expectError(() => engine.normalizeReservationPattern(pattern), "INVALID_ARGUMENT", reason);
    expect(e.message).toMatch(/repository-relative globs/);
  });

  test("normalization: ./ dropped, trailing slash reserves the directory, whitespace trimmed", () => {
    expect(engine.normalizeReservationPattern("./a")).toBe("a");
    expect(engine.normalizeReservationPattern("./src/./a.ts")).toBe("src/a.ts");
    expect(engine.normalizeReservationPattern("src/")).toBe("src/**");
    expect(engine.normalizeReservationPattern("  src/*.ts ")).toBe("src/*.ts");
    expect(engine.normalizeReservationPattern("!(vendor)/**")).toBe("!(vendor)/**");
  });

  test("over-long patterns and brace blow-ups are TOO_LARGE", () => {
    const long = "a".repeat(engine.LIMITS.reservationPatternChars + 1);
    expectError(() => engine.normalizeReservationPattern(long), "TOO_LARGE", /limit/);
    expectError(() => engine.normalizeReservationPattern("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}"), "TOO_LARGE");
    const { reserve } = setup();
    expectError(() => reserve("Alice", [long]), "TOO_LARGE");
  });

  test("the operations refuse bad patterns before storing anything", () => {
    const { reserve, mb, project } = setup();
    expectError(() => reserve("Alice", ["ok/**", "/abs"]), "INVALID_ARGUMENT", /absolute/);
    expect(
      engine.listFileReservations(mb, { project_key: project, active_only: false }).file_reservations,
    ).toEqual([]);
  });
});

describe("renew_file_reservations", () => {
  test("extends only the agent's own active reservations, from their current expiry", () => {
    const { reserve, advance, mb, project } = setup();
    reserve("Alice", ["src/**", "docs/**"], { ttl_seconds: 600 });
    reserve("Bob", ["lib/**"], { ttl_seconds: 600 });
    advance(300);
    const r = engine.renewFileReservations(mb, { project_key: project, agent_name: "Alice" });
    expect(r.renewed).toBe(2);
    expect(r.skipped).toEqual([]);
    expect(r.file_reservations).toEqual([
      {
        id: 1,
        path_pattern: "src/**",
        old_expires_ts: "2026-01-01T00:10:00.000Z",
        new_expires_ts: "2026-01-01T00:40:00.000Z",
      },
      {
        id: 2,
        path_pattern: "docs/**",
        old_expires_ts: "2026-01-01T00:10:00.000Z",
        new_expires_ts: "2026-01-01T00:40:00.000Z",
      },
    ]);
    const bob = engine
      .listFileReservations(mb, { project_key: project })
      .file_reservations.find((f) => f.agent === "Bob");
    expect(bob?.expires_ts).toBe("2026-01-01T00:10:00.000Z");
  });

  test("selects by path or id; ids held by others or unknown are skipped with a reason", () => {
    const { reserve, mb, project } = setup();
    reserve("Alice", ["src/**", "docs/**"]);
    reserve("Bob", ["lib/**"]);
    const byPath = engine.renewFileReservations(mb, {
      project_key: project,
      agent_name: "Alice",
      paths: ["./docs/**", "nope/**"],
      extend_seconds: 60,
    });
    expect(byPath.file_reservations.map((f) => f.path_pattern)).toEqual(["docs/**"]);
    expect(byPath.skipped).toEqual([
      { path: "nope/**", reason: expect.stringMatching(/no active reservation/) },
    ]);
    const byId = engine.renewFileReservations(mb, {
      project_key: project,
      agent_name: "Alice",
      file_reservation_ids: [1, 3, 99],
    });
    expect(byId.file_reservations.map((f) => f.id)).toEqual([1]);
    expect(byId.skipped).toEqual([
      { id: 3, reason: expect.stringMatching(/held by Bob/) },
      { id: 99, reason: expect.stringMatching(/no file reservation with this id/) },
    ]);
  });

  test("never revives an expired or released reservation", () => {
    const { reserve, advance, mb, project } = setup();
    reserve("Alice", ["src/**"], { ttl_seconds: 60 });
    reserve("Alice", ["docs/**"], { ttl_seconds: 3600 });
    engine.releaseFileReservations(mb, { project_key: project, agent_name: "Alice", paths: ["docs/**"] });
    advance(61);
    const r = engine.renewFileReservations(mb, {
      project_key: project,
      agent_name: "Alice",
      file_reservation_ids: [1, 2],
    });
    expect(r.renewed).toBe(0);
    expect(r.skipped).toEqual([
      {
        id: 1,
        reason: expect.stringMatching(
          /expired at 2026-01-01T00:01:00.000Z; an expired reservation is never revived/,
        ),
      },
      { id: 2, reason: expect.stringMatching(/already released/) },
    ]);
    expect(engine.renewFileReservations(mb, { project_key: project, agent_name: "Alice" }).renewed).toBe(0);
    const all = engine.listFileReservations(mb, {
      project_key: project,
      active_only: false,
    }).file_reservations;
    expect(all.map((f) => [f.id, f.active, f.expires_ts])).toEqual([
      [1, false, "2026-01-01T00:01:00.000Z"],
      [2, false, "2026-01-01T01:00:00.000Z"],
    ]);
  });

  test("a renewal never pushes a lease beyond the maximum TTL from now", () => {
    const { reserve, mb, project } = setup();
    reserve("Alice", ["src/**"], { ttl_seconds: engine.LIMITS.reservationTtlSeconds });
    const r = engine.renewFileReservations(mb, {
      project_key: project,
      agent_name: "Alice",
      extend_seconds: 3600,
    });
    expect(r.file_reservations[0]!.new_expires_ts).toBe("2026-01-31T00:00:00.000Z");
  });
});

describe("release_file_reservations", () => {
  test("by path, by id, and all; only the agent's own", () => {
    const { reserve, advance, mb, project } = setup();
    reserve("Alice", ["a/**", "b/**", "c/**", "d/**"]);
    reserve("Bob", ["e/**"]);
    advance(10);
    const byPath = engine.releaseFileReservations(mb, {
      project_key: project,
      agent_name: "Alice",
      paths: ["a/"],
    });
    expect(byPath).toEqual({
      released: 1,
      released_at: "2026-01-01T00:00:10.000Z",
      file_reservation_ids: [1],
      skipped: [],
    });
    const byId = engine.releaseFileReservations(mb, {
      project_key: project,
      agent_name: "Alice",
      file_reservation_ids: [2, 5],
    });
    expect(byId.released).toBe(1);
    expect(byId.skipped).toEqual([{ id: 5, reason: expect.stringMatching(/held by Bob/) }]);
    const all = engine.releaseFileReservations(mb, { project_key: project, agent_name: "Alice" });
    expect(all.file_reservation_ids).toEqual([3, 4]);
    const active = engine.listFileReservations(mb, { project_key: project }).file_reservations;
    expect(active.map((f) => f.agent)).toEqual(["Bob"]);
    expect(engine.releaseFileReservations(mb, { project_key: project, agent_name: "Alice" }).released).toBe(
      0,
    );
  });
});

describe("list_file_reservations", () => {
  test("active_only hides released and expired ones; the full list flags them", () => {
    const { reserve, advance, mb, project } = setup();
    reserve("Alice", ["a/**"], { ttl_seconds: 60, reason: "short" });
    reserve("Bob", ["b/**"], { exclusive: false });
    reserve("Carol", ["c/**"]);
    engine.releaseFileReservations(mb, { project_key: project, agent_name: "Carol" });
    advance(61);
    const active = engine.listFileReservations(mb, { project_key: project });
    expect(active.project).toBe(project);
    expect(active.file_reservations).toEqual([
      {
        id: 2,
        agent: "Bob",
        path_pattern: "b/**",
        exclusive: false,
        reason: "",
        created_ts: "2026-01-01T00:00:00.000Z",
        expires_ts: "2026-01-01T01:00:00.000Z",
        released_ts: null,
        active: true,
      },
    ]);
    const all = engine.listFileReservations(mb, {
      project_key: project,
      active_only: false,
    }).file_reservations;
    expect(all.map((f) => [f.agent, f.active, f.released_ts])).toEqual([
      ["Alice", false, null],
      ["Bob", true, null],
      ["Carol", false, "2026-01-01T00:00:00.000Z"],
    ]);
  });
});

describe("force_release_file_reservation", () => {
  test("refused while the holder is active, saying when it becomes releasable", async () => {
    const { reserve, advance, mb, project } = setup();
    reserve("Alice", ["src/**"]);
    advance(10 * 60);
    await expect(
      engine.forceReleaseFileReservation(mb, {
        project_key: project,
        agent_name: "Bob",
        file_reservation_id: 1,
      }),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringMatching(/force-released from 2026-01-01T00:30:00.000Z/),
    });
    expect(engine.listFileReservations(mb, { project_key: project }).file_reservations).toHaveLength(1);
  });

  test("allowed after the inactivity threshold; notifies the holder with the note", async () => {
    const { reserve, advance, mb, project } = setup();
    reserve("Alice", ["src/**"], { reason: "big refactor" });
    advance(engine.FORCE_RELEASE_INACTIVITY_SECONDS + 1);
    const r = await engine.forceReleaseFileReservation(mb, {
      project_key: project,
      agent_name: "Bob",
      file_reservation_id: 1,
      note: "Taking over src/ for the release.",
    });
    expect(r).toMatchObject({ released: true, notified: true, grounds: "holder inactive" });
    expect(r.reservation).toMatchObject({ id: 1, agent: "Alice", path_pattern: "src/**", active: false });
    expect(r.reservation.released_ts).toBe("2026-01-01T00:30:01.000Z");
    const inbox = engine.fetchInbox(mb, { project_key: project, agent_name: "Alice", include_bodies: true });
    expect(inbox).toHaveLength(1);
    expect(inbox[0]!.subject).toBe("File reservation released: src/**");
    expect(inbox[0]!.from).toBe("Bob");
    expect(inbox[0]!.body_md).toContain("Taking over src/ for the release.");
    expect(inbox[0]!.body_md).toContain("big refactor");
    expect(engine.listFileReservations(mb, { project_key: project }).file_reservations).toEqual([]);
  });

  test("an expired reservation can be force-released at once; notify_previous false sends nothing", async () => {
    const { reserve, advance, mb, project } = setup();
    reserve("Alice", ["src/**"], { ttl_seconds: 60 });
    advance(61);
    engine.registerAgent(mb, { project_key: project, program: "test", model: "m", name: "Alice" }); // active again
    const r = await engine.forceReleaseFileReservation(mb, {
      project_key: project,
      agent_name: "Bob",
      file_reservation_id: 1,
      notify_previous: false,
    });
    expect(r).toMatchObject({ released: true, notified: false, grounds: "expired" });
    expect(engine.fetchInbox(mb, { project_key: project, agent_name: "Alice" })).toEqual([]);
  });

  test("a retired holder's reservation can be released; the failed notification is reported", async () => {
    const { reserve, mb, project } = setup();
    reserve("Alice", ["src/**"]);
    engine.retireAgent(mb, { project_key: project, agent_name: "Alice" });
    const r = await engine.forceReleaseFileReservation(mb, {
      project_key: project,
      agent_name: "Bob",
      file_reservation_id: 1,
    });
    expect(r).toMatchObject({ released: true, grounds: "holder retired", notified: false });
    expect(r.notify_error).toMatch(/retired/);
    expect(engine.listFileReservations(mb, { project_key: project }).file_reservations).toEqual([]);
  });

  test("refuses one's own, released and unknown reservations", async () => {
    const { reserve, advance, mb, project } = setup();
    reserve("Alice", ["src/**"]);
    const force = (agent: string, id: number) =>
      engine.forceReleaseFileReservation(mb, {
        project_key: project,
        agent_name: agent,
        file_reservation_id: id,
      });
    await expect(force("Alice", 1)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(force("Bob", 42)).rejects.toMatchObject({ code: "NOT_FOUND" });
    advance(engine.FORCE_RELEASE_INACTIVITY_SECONDS);
    await force("Bob", 1);
    await expect(force("Carol", 1)).rejects.toMatchObject({
      code: "CONFLICT",
      message: expect.stringMatching(/already released/),
    });
  });
});

describe("archive jobs", () => {
  test("every change queues a reservation job in the same transaction", async () => {
    const { reserve, advance, mb, project } = setup({ archive: true });
    const count = () =>
      (
        mb.db.prepare("SELECT COUNT(*) AS n FROM archive_jobs WHERE kind = 'reservation'").get() as {
          n: number;
        }
      ).n;
    reserve("Alice", ["a/**", "b/**"]);
    expect(count()).toBe(2);
    reserve("Alice", ["a/**"]);
    expect(count()).toBe(3);
    engine.renewFileReservations(mb, { project_key: project, agent_name: "Alice" });
    expect(count()).toBe(5);
    engine.releaseFileReservations(mb, { project_key: project, agent_name: "Alice", paths: ["a/**"] });
    expect(count()).toBe(6);
    advance(engine.FORCE_RELEASE_INACTIVITY_SECONDS);
    await engine.forceReleaseFileReservation(mb, {
      project_key: project,
      agent_name: "Bob",
      file_reservation_id: 2,
      notify_previous: false,
    });
    expect(count()).toBe(7);
    const refs = mb.db.prepare("SELECT ref FROM archive_jobs WHERE kind = 'reservation' ORDER BY id").all();
    expect(refs.map((r) => (r as { ref: number }).ref)).toEqual([1, 2, 1, 1, 2, 1, 2]);
    expect(() => reserve("Alice", [])).toThrow();
    expect(count()).toBe(7);
  });
});

describe("contact rule", () => {
  test("agents holding overlapping reservations are related; disjoint ones are not", () => {
    const { reserve, mb } = setup();
    reserve("Alice", ["src/**"]);
    reserve("Bob", ["src/a.ts"], { exclusive: false });
    reserve("Carol", ["docs/**"]);
    const agent = (name: string) => mb.db.prepare("SELECT * FROM agents WHERE name = ?").get(name) as never;
    expect(engine.holdOverlappingReservations(mb, agent("Alice"), agent("Bob"))).toBe(true);
    expect(engine.holdOverlappingReservations(mb, agent("Alice"), agent("Carol"))).toBe(false);
  });

  test("is registered with the auto contact policy: overlapping holders across projects may write", async () => {
    const { reserve, mb, project } = setup();
    const other = engine.ensureProject(mb, { human_key: "other" }).slug;
    engine.registerAgent(mb, { project_key: other, program: "t", model: "m", name: "Dave" });
    const send = () =>
      engine.sendMessage(mb, {
        project_key: other,
        sender_name: "Dave",
        to: `Alice@${project}`,
        subject: "hi",
        body_md: "x",
      });
    await expect(send()).rejects.toMatchObject({ code: "CONTACT_REQUIRED" });
    reserve("Alice", ["src/**"]);
    engine.fileReservationPaths(mb, { project_key: other, agent_name: "Dave", paths: ["src/api/*.ts"] });
    expect((await send()).count).toBe(1);
  });
});
