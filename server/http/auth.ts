import { createHash, timingSafeEqual } from "node:crypto";
import { createRemoteJWKSet, decodeProtectedHeader, errors, type JWTPayload, jwtVerify } from "jose";
import type { Logger } from "../log.js";
import type { Role } from "../mcp/session.js";
import type { HttpFailure } from "./reply.js";

/**
 * Who is calling over HTTP. Without configured auth every caller is an anonymous writer (the loopback
 * bind is the guard); with auth, a request proves itself with `Authorization: Bearer <credential>`: the
 * shared token (`PIGEONHOLE_TOKEN`, a writer) or a JWT (HS256 with `PIGEONHOLE_JWT_SECRET`, or an
 * asymmetric key from `PIGEONHOLE_JWKS_URL`) whose `role` claim says reader or writer. No credential is
 * ever logged or echoed back.
 */

/** The identity of one authenticated HTTP request; what `/mcp` sessions and the REST API act on. */
export interface RequestIdentity {
  /** `writer` may call every tool; `reader` only read-only tools and resources. */
  role: Role;
  /**
   * Stable label for sessions, rate limits and logs: `anonymous` (no auth configured), `token` (the
   * shared bearer token) or `jwt:<sub>` (`jwt` when the token has no `sub`).
   */
  principal: string;
  /** How the caller proved who it is. */
  method: "none" | "token" | "jwt";
}

/** Configured credentials; all absent means no auth (loopback-only serving). */
export interface AuthConfig {
  token?: string;
  jwtSecret?: string;
  jwksUrl?: URL;
  jwtIssuer?: string;
  jwtAudience?: string;
}

/** Outcome of checking one request's credentials. */
export type AuthOutcome = { ok: true; identity: RequestIdentity } | { ok: false; failure: HttpFailure };

/** Algorithms accepted from a JWKS: asymmetric only, so a public key can never verify an HMAC token. */
const ASYMMETRIC_ALGS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
];
const CLOCK_TOLERANCE_SECONDS = 30;
const REALM = 'Bearer realm="pigeonhole"';
const HOW_TO =
  'Send "Authorization: Bearer <token>" with the server\'s PIGEONHOLE_TOKEN or a JWT it accepts.';

/** True when any credential is configured (and so every request but `GET /health` must carry one). */
export function authIsConfigured(config: AuthConfig): boolean {
  return Boolean(config.token || config.jwtSecret || config.jwksUrl);
}

/**
 * Check `Authorization` headers against `config`. The returned function never throws: a missing, bad or
 * expired credential is a 401 failure (with `WWW-Authenticate: Bearer`), an unreachable JWKS a 503.
 */
export function createAuthenticator(
  config: AuthConfig,
  log: Logger,
): (authorization: string | undefined) => Promise<AuthOutcome> {
  if (!authIsConfigured(config)) {
    const identity: RequestIdentity = { role: "writer", principal: "anonymous", method: "none" };
    return async () => ({ ok: true, identity });
  }
  const tokenDigest = config.token ? sha256(config.token) : undefined;
  const secret = config.jwtSecret ? new TextEncoder().encode(config.jwtSecret) : undefined;
  const jwks = config.jwksUrl ? createRemoteJWKSet(config.jwksUrl) : undefined;
  const claims = {
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
    ...(config.jwtAudience ? { audience: config.jwtAudience } : {}),
  };

  async function verifyJwt(token: string): Promise<AuthOutcome> {
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return unauthorized("The bearer credential is neither the server's token nor a well-formed JWT.");
    }
    // With both configured, the header picks the key: an HMAC token can only ever meet the secret.
    const useSecret = secret !== undefined && (jwks === undefined || alg?.startsWith("HS") === true);
    let payload: JWTPayload;
    try {
      if (useSecret) {
        payload = (await jwtVerify(token, secret, { ...claims, algorithms: ["HS256"] })).payload;
      } else if (jwks !== undefined) {
        payload = (await jwtVerify(token, jwks, { ...claims, algorithms: ASYMMETRIC_ALGS })).payload;
      } else {
        return unauthorized(`The JWT is not valid (algorithm ${alg ?? "none"} is not accepted). ${HOW_TO}`);
      }
    } catch (error) {
      return jwtFailure(error, log);
    }
    const role = payload.role ?? "reader";
    if (role !== "reader" && role !== "writer") {
      return unauthorized(
        `The JWT's role claim must be "reader" or "writer" (or absent, meaning reader); got ${JSON.stringify(role)}.`,
      );
    }
    const sub = typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : undefined;
    return { ok: true, identity: { role, principal: sub ? `jwt:${sub}` : "jwt", method: "jwt" } };
  }

  return async (authorization) => {
    if (authorization === undefined || authorization.trim() === "") {
      return unauthorized(`Authentication required. ${HOW_TO}`, false);
    }
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!match) return unauthorized(`Malformed Authorization header. ${HOW_TO}`);
    const credential = match[1] as string;
    if (tokenDigest && timingSafeEqual(sha256(credential), tokenDigest)) {
      return { ok: true, identity: { role: "writer", principal: "token", method: "token" } };
    }
    if ((secret || jwks) && credential.split(".").length === 3) return verifyJwt(credential);
    return unauthorized(`The bearer credential is not valid. ${HOW_TO}`);
  };
}

/** Hashing first gives equal-length inputs, so the comparison leaks neither content nor length. */
function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

function unauthorized(message: string, invalidToken = true): { ok: false; failure: HttpFailure } {
  const challenge = invalidToken ? `${REALM}, error="invalid_token"` : REALM;
  return {
    ok: false,
    failure: {
      status: 401,
      type: "UNAUTHENTICATED",
      message,
      data: { status: 401 },
      headers: { "www-authenticate": challenge },
    },
  };
}

function jwtFailure(error: unknown, log: Logger): { ok: false; failure: HttpFailure } {
  if (error instanceof errors.JWTExpired) {
    return unauthorized("The JWT has expired; get a new token and reconnect.");
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const which =
      error.claim === "aud"
        ? "audience (aud) is not the one this server expects (PIGEONHOLE_JWT_AUDIENCE)"
        : error.claim === "iss"
          ? "issuer (iss) is not the one this server expects (PIGEONHOLE_JWT_ISSUER)"
          : `${error.claim} claim is not acceptable (${error.reason})`;
    return unauthorized(`The JWT's ${which}.`);
  }
  if (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    !(error instanceof errors.JOSEError)
  ) {
    // The key server, not the caller, is at fault: say so, and keep the cause (never the token) in the log.
    log.warn("cannot fetch JWT signing keys", {
      reason: error instanceof Error ? error.message : String(error),
    });
    return {
      ok: false,
      failure: {
        status: 503,
        type: "BUSY",
        message: "The server cannot fetch its JWT signing keys (PIGEONHOLE_JWKS_URL) right now; retry later.",
        data: { status: 503 },
      },
    };
  }
  return unauthorized(`The JWT is not valid (${error.code}). ${HOW_TO}`);
}
