import { fail, PigeonholeError } from "../../engine/index.js";
import { type AuthConfig, authIsConfigured } from "./auth.js";
import { isLoopbackHost } from "./hosts.js";

/**
 * Where the server may listen. A loopback address is always allowed; any other address lets other
 * machines in, so it needs authentication configured first, and the refusal says how.
 */

/** Throw INVALID_ARGUMENT when `host` is not loopback and `auth` configures no credential. */
export function assertBindAllowed(host: string, auth: AuthConfig): void {
  if (isLoopbackHost(host) || authIsConfigured(auth)) return;
  throw fail.invalid(
    `Refusing to listen on ${host}: it is not a loopback address, and serving other machines requires authentication. ` +
      "Set PIGEONHOLE_TOKEN=<long random secret> (clients send Authorization: Bearer <it>), or PIGEONHOLE_JWT_SECRET / PIGEONHOLE_JWKS_URL for JWTs; or use --host 127.0.0.1 (the default).",
    { host },
  );
}

/** Turn a `listen` failure into an error whose message says what to change. */
export function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  if (error.code === "EADDRINUSE") {
    return fail.conflict(
      `Port ${port} on ${host} is already in use; stop the other server or choose --port.`,
    );
  }
  if (error.code === "EACCES") {
    return new PigeonholeError(
      "PERMISSION_DENIED",
      `Not allowed to listen on ${host}:${port}; choose --port above 1023.`,
    );
  }
  if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") {
    return fail.invalid(`Cannot listen on ${host}: no such address on this machine.`);
  }
  return error;
}
