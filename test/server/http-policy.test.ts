import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createAuthenticator } from "../../server/http/auth.js";
import { assertBindAllowed } from "../../server/http/bind.js";
import { httpSecurityFromEnv } from "../../server/http/config.js";
import { createHostCheck, isLoopbackHost } from "../../server/http/hosts.js";
import { describeRateLimit, parseRateLimit, RateLimiter } from "../../server/http/rate-limit.js";
import { SessionTable } from "../../server/http/sessions.js";
import { logFormatFromEnv, silentLogger, stderrLogger } from "../../server/log.js";
import { freePort } from "./cli-process.js";
import { startJwksServer } from "./http-fixtures.js";

/**
 * The policies behind the HTTP guards, in process: token-bucket arithmetic on an injected clock (no
 * wall-clock time), configuration parsing and its error messages, the Host/Origin rules and log lines.
 */

describe("RateLimiter", () => {
  it("allows a burst, then refuses with the whole seconds until a token is back, then refills", () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 0.5, burst: 2 }, 100, () => now);
    expect(limiter.take("a")).toEqual({ allowed: true });
    expect(limiter.take("a")).toEqual({ allowed: true });
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 2 });
    // Another key has its own bucket.
    expect(limiter.take("b")).toEqual({ allowed: true });
    now = 1000;
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now = 2000;
    expect(limiter.take("a")).toEqual({ allowed: true });
    expect(limiter.take("a")).toEqual({ allowed: false, retryAfterSeconds: 2 });
  });

  it("never refills beyond the burst", () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 10, burst: 3 }, 100, () => now);
    now = 3_600_000;
    const decisions = Array.from({ length: 4 }, () => limiter.take("a").allowed);
    expect(decisions).toEqual([true, true, true, false]);
  });

  it("keeps at most maxKeys buckets, and drops idle (refilled) ones", () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, 50, () => now);
    for (let i = 0; i < 500; i++) limiter.take(`flood-${i}`);
    expect(limiter.size).toBe(50);
    // Two seconds refill every bucket: the next request finds them all idle and drops them.
    now = 2000;
    limiter.take("late");
    expect(limiter.size).toBe(1);
  });
});

describe("parseRateLimit", () => {
  it("reads N/s, N/m, N/h, defaults the burst to twice the per-second rate, and turns off with 0/off", () => {
    expect(parseRateLimit(undefined, undefined)).toEqual({ perSecond: 50, burst: 100 });
    expect(parseRateLimit("20/s", undefined)).toEqual({ perSecond: 20, burst: 40 });
    expect(parseRateLimit("120/m", "5")).toEqual({ perSecond: 2, burst: 5 });
    expect(parseRateLimit("36/h", undefined)).toEqual({ perSecond: 0.01, burst: 1 });
    expect(parseRateLimit("off", "3")).toBeUndefined();
    expect(parseRateLimit("0", undefined)).toBeUndefined();
  });

  it("describes a limit the way it is written", () => {
    expect(describeRateLimit({ perSecond: 50, burst: 100 })).toBe("50/s, burst 100");
    expect(describeRateLimit(parseRateLimit("2/m", "2") as { perSecond: number; burst: number })).toBe(
      "2/m, burst 2",
    );
  });

  it("refuses other forms with the accepted ones", () => {
    expect(() => parseRateLimit("20", undefined)).toThrow(/20\/s, 600\/m or 1000\/h/);
    expect(() => parseRateLimit("0/s", undefined)).toThrow(/PIGEONHOLE_RATE_LIMIT/);
    expect(() => parseRateLimit("5/fortnight", undefined)).toThrow(/PIGEONHOLE_RATE_LIMIT/);
    expect(() => parseRateLimit("5/s", "0")).toThrow(/PIGEONHOLE_RATE_BURST must be a whole number/);
    expect(() => parseRateLimit("5/s", "2.5")).toThrow(/PIGEONHOLE_RATE_BURST/);
  });
});

describe("httpSecurityFromEnv", () => {
  it("collects credentials, allow-lists (flags first) and limits", () => {
    const security = httpSecurityFromEnv(
      {
        PIGEONHOLE_TOKEN: "t0k3n",
        PIGEONHOLE_JWKS_URL: "https://id.example/jwks.json",
        PIGEONHOLE_JWT_AUDIENCE: " aud ",
        PIGEONHOLE_ALLOWED_HOSTS: "b.internal, ,c.internal:9",
        PIGEONHOLE_ALLOWED_ORIGINS: "https://dash.example",
        PIGEONHOLE_MAX_BODY_BYTES: "65536",
        PIGEONHOLE_RATE_LIMIT: "off",
      },
      ["a.internal,a2.internal", "a3.internal"],
    );
    expect(security.auth.token).toBe("t0k3n");
    expect(security.auth.jwksUrl?.href).toBe("https://id.example/jwks.json");
    expect(security.auth.jwtAudience).toBe("aud");
    expect(security.allow.hosts).toEqual([
      "a.internal",
      "a2.internal",
      "a3.internal",
      "b.internal",
      "c.internal:9",
    ]);
    expect(security.allow.origins).toEqual(["https://dash.example"]);
    expect(security.maxBodyBytes).toBe(65536);
    expect(security.rateLimit).toBeUndefined();
  });

  it("treats empty credentials as unset and refuses unusable values, naming the variable", () => {
    expect(httpSecurityFromEnv({ PIGEONHOLE_TOKEN: "", PIGEONHOLE_JWT_SECRET: "" }).auth).toEqual({
      token: undefined,
      jwtSecret: undefined,
      jwksUrl: undefined,
      jwtIssuer: undefined,
      jwtAudience: undefined,
    });
    expect(() => httpSecurityFromEnv({ PIGEONHOLE_TOKEN: "has space" })).toThrow(
      /PIGEONHOLE_TOKEN must be printable/,
    );
    expect(() => httpSecurityFromEnv({ PIGEONHOLE_JWKS_URL: "http://id.example/jwks" })).toThrow(
      /PIGEONHOLE_JWKS_URL must use https/,
    );
    expect(
      httpSecurityFromEnv({ PIGEONHOLE_JWKS_URL: "http://127.0.0.1:9/jwks" }).auth.jwksUrl,
    ).toBeInstanceOf(URL);
    expect(() => httpSecurityFromEnv({ PIGEONHOLE_JWKS_URL: "not a url" })).toThrow(/PIGEONHOLE_JWKS_URL/);
    expect(() => httpSecurityFromEnv({ PIGEONHOLE_MAX_BODY_BYTES: "10" })).toThrow(/at least 1024/);
    expect(() => httpSecurityFromEnv({ PIGEONHOLE_MAX_BODY_BYTES: "4MiB" })).toThrow(
      /PIGEONHOLE_MAX_BODY_BYTES/,
    );
  });
});

describe("createAuthenticator", () => {
  it("without configured credentials, everyone is an anonymous writer", async () => {
    const authenticate = createAuthenticator({}, silentLogger());
    expect(await authenticate(undefined)).toEqual({
      ok: true,
      identity: { role: "writer", principal: "anonymous", method: "none" },
    });
  });

  it("challenges a missing credential plainly and a bad one as invalid_token", async () => {
    const authenticate = createAuthenticator({ token: "right" }, silentLogger());
    const missing = await authenticate(undefined);
    const wrong = await authenticate("Bearer right-but-longer");
    expect(missing.ok || missing.failure.headers).toEqual({
      "www-authenticate": 'Bearer realm="pigeonhole"',
    });
    expect(wrong.ok || wrong.failure.headers?.["www-authenticate"]).toContain('error="invalid_token"');
    expect(await authenticate("bearer   right ")).toMatchObject({
      ok: true,
      identity: { principal: "token" },
    });
  });

  it("answers 503 (not 401) when the JWKS cannot be fetched, and logs why without the token", async () => {
    const jwks = await startJwksServer();
    const jwt = await jwks.sign({ sub: "s", role: "writer" });
    await jwks.close();
    const warnings: string[] = [];
    const log = {
      ...silentLogger(),
      warn: (msg: string, fields?: object) => warnings.push(msg + JSON.stringify(fields)),
    };
    const url = new URL(`http://127.0.0.1:${await freePort()}/jwks.json`);
    const outcome = await createAuthenticator({ jwksUrl: url }, log)(`Bearer ${jwt}`);
    expect(outcome.ok || outcome.failure).toMatchObject({ status: 503, type: "BUSY" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain(jwt);
  });
});

describe("assertBindAllowed", () => {
  it("allows loopback always and other addresses only with a credential configured", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
      expect(() => assertBindAllowed(host, {})).not.toThrow();
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com"]) {
      expect(() => assertBindAllowed(host, {})).toThrow(/PIGEONHOLE_TOKEN=/);
      expect(() => assertBindAllowed(host, { token: "t" })).not.toThrow();
      expect(() => assertBindAllowed(host, { jwtSecret: "s" })).not.toThrow();
      expect(() => assertBindAllowed(host, { jwksUrl: new URL("https://id.example/jwks") })).not.toThrow();
    }
  });
});

describe("createHostCheck", () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

  it("allows loopback names, listed names and the bind address; refuses others with how to allow them", () => {
    const check = createHostCheck({ hosts: ["mail.internal", "api.internal:8443"], origins: [] }, "10.0.0.5");
    for (const host of [
      "127.0.0.1:8765",
      "localhost",
      "[::1]:80",
      "mail.internal:1234",
      "api.internal:8443",
      "10.0.0.5:8765",
    ]) {
      expect(check(req({ host })), host).toBeUndefined();
    }
    for (const host of [
      "attacker.example",
      "api.internal:8444",
      "mail.internal.attacker.example",
      "user@localhost",
      "10.0.0.6",
    ]) {
      expect(check(req({ host }))?.status, host).toBe(403);
    }
    expect(check(req({ host: "evil.example" }))?.message).toContain("--allow-host evil.example");
    expect(check(req({}))).toBeUndefined();
    expect(isLoopbackHost("::ffff:127.0.0.1")).toBe(true);
    expect(isLoopbackHost("128.0.0.1")).toBe(false);
  });

  it("does not let a wildcard bind allow every host", () => {
    const check = createHostCheck({ hosts: [], origins: [] }, "0.0.0.0");
    expect(check(req({ host: "0.0.0.0:8765" }))?.status).toBe(403);
  });

  it("allows origins on loopback, on allowed hosts, or listed; refuses null unless listed", () => {
    const check = createHostCheck(
      { hosts: ["mail.internal"], origins: ["https://Dash.Example:443/"] },
      "127.0.0.1",
    );
    for (const origin of [
      "http://localhost:6274",
      "http://127.0.0.1",
      "https://mail.internal",
      "https://dash.example",
    ]) {
      expect(check(req({ host: "127.0.0.1", origin })), origin).toBeUndefined();
    }
    for (const origin of ["null", "https://evil.example", "file:///etc/passwd", "garbage"]) {
      expect(check(req({ host: "127.0.0.1", origin }))?.status, origin).toBe(403);
    }
    const withNull = createHostCheck({ hosts: [], origins: ["null"] }, "127.0.0.1");
    expect(withNull(req({ origin: "null" }))).toBeUndefined();
  });

  it("refuses a malformed allow-list entry at start", () => {
    expect(() => createHostCheck({ hosts: ["bad host/x"], origins: [] }, "127.0.0.1")).toThrow(
      /--allow-host/,
    );
  });
});

describe("logs", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function capture(): string[] {
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    return lines;
  }

  it("json: one object per line with ts, level and msg first; fields cannot overwrite them", () => {
    const lines = capture();
    stderrLogger("json").info("http request", {
      method: "GET",
      status: 200,
      msg: "spoof",
      skipped: undefined,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("\n")).toBe(true);
    const event = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(Object.keys(event)).toEqual(["ts", "level", "msg", "method", "status"]);
    expect(event).toMatchObject({ level: "info", msg: "http request", method: "GET", status: 200 });
    expect(Number.isNaN(Date.parse(event.ts as string))).toBe(false);
  });

  it("text: one line with quoted fields where needed", () => {
    const lines = capture();
    stderrLogger("text").warn("cannot fetch", { reason: "connect ECONNREFUSED", code: 7 });
    expect(lines).toEqual(['pigeonhole warn: cannot fetch reason="connect ECONNREFUSED" code=7\n']);
  });

  it("PIGEONHOLE_LOG_FORMAT accepts text and json only", () => {
    expect(logFormatFromEnv({})).toBe("text");
    expect(logFormatFromEnv({ PIGEONHOLE_LOG_FORMAT: "json" })).toBe("json");
    expect(() => logFormatFromEnv({ PIGEONHOLE_LOG_FORMAT: "yaml" })).toThrow(/"text" \(default\) or "json"/);
  });
});

describe("SessionTable", () => {
  /** A table on an injected clock whose closed sessions are recorded in `closed`. */
  function table(maxSessions: number, closeSession?: (name: string) => Promise<void>) {
    const clock = { now: 0 };
    const closed: string[] = [];
    const warnings: string[] = [];
    const log = { ...silentLogger(), warn: (message: string) => warnings.push(message) };
    const sessions = new SessionTable<string>(
      { idleTimeoutMs: 1000, maxSessions },
      closeSession ??
        (async (name) => {
          closed.push(name);
        }),
      log,
      () => clock.now,
    );
    const add = (id: string) => {
      const activity = sessions.newActivity();
      sessions.add(id, id, "anonymous", activity);
      return activity;
    };
    return { sessions, clock, closed, warnings, add };
  }

  /** A real response object whose end the test decides, by emitting "close". */
  function response(): ServerResponse {
    return new ServerResponse(new IncomingMessage(new Socket()));
  }

  it("expires only sessions idle past the timeout with no open response, counting from the last one's end", async () => {
    const { sessions, clock, closed, add } = table(10);
    const quiet = add("quiet");
    const busy = add("busy");
    add("fresh");
    const inFlight = response();
    sessions.track(busy, inFlight);
    clock.now = 900;
    const answered = response();
    sessions.track(quiet, answered);
    answered.emit("close");
    clock.now = 1001;
    await sessions.sweep();
    expect(closed).toEqual(["fresh"]);
    // An hour with a request in flight is not idle; the other session is.
    clock.now = 3_600_000;
    await sessions.sweep();
    expect(closed).toEqual(["fresh", "quiet"]);
    // The idle clock starts again when the answer ends.
    inFlight.emit("close");
    clock.now += 1000;
    await sessions.sweep();
    expect(closed).toEqual(["fresh", "quiet"]);
    clock.now += 1;
    await sessions.sweep();
    expect(closed).toEqual(["fresh", "quiet", "busy"]);
    expect(sessions.stats()).toMatchObject({ live: 0, expired: 3, evicted: 0 });
  });

  it("counts sessions being initialized against the limit, and evicts the longest idle, never a busy one", async () => {
    const { sessions, clock, closed, add } = table(3);
    const a = add("a");
    clock.now = 10;
    add("b");
    clock.now = 20;
    const slot = await sessions.reserve();
    expect(slot).toBeDefined();
    sessions.track(a, response());
    // Two live plus one reserved: full. "a" is older but busy, so "b" goes.
    expect(await sessions.reserve()).toBeDefined();
    expect(closed).toEqual(["b"]);
    slot?.release();
    slot?.release();
    add("c");
    add("d");
    // a busy, c and d live, nothing reserved: "c" and "d" are idle since 20; the first found goes.
    expect(await sessions.reserve()).toBeDefined();
    expect(closed).toEqual(["b", "c"]);
    expect(sessions.stats()).toMatchObject({ live: 2, evicted: 2, refused: 0 });
  });

  it("refuses when every session is busy, and logs a session whose close fails instead of throwing", async () => {
    const { sessions, warnings, add } = table(1, async () => {
      throw new Error("transport already gone");
    });
    const only = add("only");
    const res = response();
    sessions.track(only, res);
    expect(await sessions.reserve()).toBeUndefined();
    expect(sessions.stats()).toMatchObject({ live: 1, refused: 1 });
    expect(warnings).toEqual(["mcp session refused: session limit reached, every session busy"]);
    res.emit("close");
    expect(await sessions.reserve()).toBeDefined();
    expect(sessions.size).toBe(0);
    expect(warnings[1]).toBe("closing an mcp session failed");
  });
});
