import { fail } from "../../engine/index.js";
import type { AuthConfig } from "./auth.js";
import { DEFAULT_MAX_BODY_BYTES } from "./body.js";
import { type HostAllowList, isLoopbackHost } from "./hosts.js";
import { DEFAULT_RATE_LIMIT, parseRateLimit, type RateLimit } from "./rate-limit.js";

/**
 * The HTTP server's security settings, read once at start from the environment (and `--allow-host`), so
 * a bad value stops the server before it opens the mailbox, with a message naming the variable.
 */
export interface HttpSecurity {
  auth: AuthConfig;
  allow: HostAllowList;
  maxBodyBytes: number;
  /** `undefined`: rate limiting off. */
  rateLimit: RateLimit | undefined;
}

/** No auth, loopback names only, 4 MiB bodies, 50 requests/s with a burst of 100 per caller. */
export function defaultHttpSecurity(): HttpSecurity {
  return {
    auth: {},
    allow: { hosts: [], origins: [] },
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    rateLimit: { ...DEFAULT_RATE_LIMIT },
  };
}

/** Read every HTTP security variable from `env`, plus `allowHosts` from the command line. */
export function httpSecurityFromEnv(env: NodeJS.ProcessEnv, allowHosts: string[] = []): HttpSecurity {
  const value = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const jwksUrl = value("PIGEONHOLE_JWKS_URL");
  const token = env.PIGEONHOLE_TOKEN === "" ? undefined : env.PIGEONHOLE_TOKEN;
  // A bearer credential is one header token: anything else could never be sent, so say so at start.
  if (token !== undefined && !/^[\x21-\x7e]+$/.test(token)) {
    throw fail.invalid(
      "PIGEONHOLE_TOKEN must be printable ASCII without spaces (e.g. the output of `openssl rand -hex 32`).",
    );
  }
  const auth: AuthConfig = {
    token,
    jwtSecret: env.PIGEONHOLE_JWT_SECRET === "" ? undefined : env.PIGEONHOLE_JWT_SECRET,
    jwksUrl: jwksUrl === undefined ? undefined : parseJwksUrl(jwksUrl),
    jwtIssuer: value("PIGEONHOLE_JWT_ISSUER"),
    jwtAudience: value("PIGEONHOLE_JWT_AUDIENCE"),
  };
  return {
    auth,
    allow: {
      hosts: [...allowHosts.flatMap(list), ...list(env.PIGEONHOLE_ALLOWED_HOSTS)],
      origins: list(env.PIGEONHOLE_ALLOWED_ORIGINS),
    },
    maxBodyBytes: parseMaxBody(value("PIGEONHOLE_MAX_BODY_BYTES")),
    rateLimit: parseRateLimit(value("PIGEONHOLE_RATE_LIMIT"), value("PIGEONHOLE_RATE_BURST")),
  };
}

/** Comma-separated entries, blanks dropped. */
function list(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function parseMaxBody(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_BODY_BYTES;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1024) {
    throw fail.invalid(
      `PIGEONHOLE_MAX_BODY_BYTES must be a whole number of bytes, at least 1024; got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/** Keys fetched over plain HTTP from another machine could be swapped in transit: HTTPS unless loopback. */
function parseJwksUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw fail.invalid(`PIGEONHOLE_JWKS_URL must be an https:// URL; got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {
    throw fail.invalid(
      `PIGEONHOLE_JWKS_URL must use https:// (plain http:// only on this machine's loopback); got ${url.protocol}//${url.host}`,
    );
  }
  return url;
}
