import type { IncomingMessage } from "node:http";
import { isIP } from "node:net";
import { fail } from "../../engine/index.js";
import type { HttpFailure } from "./reply.js";

/**
 * DNS-rebinding protection. A web page can make a browser send requests to 127.0.0.1 under a host name
 * the attacker controls; the `Host` header still carries that name, so only names on an allow-list are
 * served. A cross-site page also sends an `Origin`, which must be allowed too. Loopback names are always
 * allowed; `--allow-host` / `PIGEONHOLE_ALLOWED_HOSTS` and `PIGEONHOLE_ALLOWED_ORIGINS` add more.
 */

/** True for names and addresses that only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (name === "localhost" || name.endsWith(".localhost")) return true;
  if (isIP(name) === 4) return name.startsWith("127.");
  if (isIP(name) === 6) return name === "::1" || /^::ffff:127\./.test(name);
  return false;
}

/** Extra names beyond loopback: `host` (any port) or `host:port` entries, and full origins. */
export interface HostAllowList {
  hosts: string[];
  origins: string[];
}

interface HostEntry {
  hostname: string;
  /** Empty: any port. */
  port: string;
}

/**
 * Parse and validate an allow-list (throws INVALID_ARGUMENT naming a bad entry), and return the check
 * for one request: `undefined` when its Host and Origin are allowed, else a 403 failure saying how to
 * allow the name. `bindHost` is allowed too unless it is a wildcard address.
 */
export function createHostCheck(
  allow: HostAllowList,
  bindHost: string,
): (req: IncomingMessage) => HttpFailure | undefined {
  const hosts = allow.hosts.map((entry) => parseHostEntry(entry, "--allow-host / PIGEONHOLE_ALLOWED_HOSTS"));
  if (bindHost !== "0.0.0.0" && bindHost !== "::" && bindHost !== "") {
    hosts.push({ hostname: parseHostEntry(bindHost, "--host").hostname, port: "" });
  }
  const origins = new Set(allow.origins.map(normalizeOrigin));

  const hostAllowed = (entry: HostEntry) =>
    isLoopbackHost(entry.hostname) ||
    hosts.some((h) => h.hostname === entry.hostname && (h.port === "" || h.port === entry.port));

  return (req) => {
    const host = req.headers.host;
    if (host !== undefined) {
      const entry = tryParseHost(host);
      if (!entry || !hostAllowed(entry)) {
        return forbidden(
          `Host ${JSON.stringify(host)} is not on this server's allow-list (DNS-rebinding protection). If it is a name for this server, start it with --allow-host ${host} or add it to PIGEONHOLE_ALLOWED_HOSTS.`,
        );
      }
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(normalizeOrigin(origin))) {
      const entry = originHost(origin);
      if (!entry || !hostAllowed(entry)) {
        return forbidden(
          `Origin ${JSON.stringify(origin)} is not allowed to call this server. To allow a web page from it, add it to PIGEONHOLE_ALLOWED_ORIGINS.`,
        );
      }
    }
    return undefined;
  };
}

function forbidden(message: string): HttpFailure {
  return { status: 403, type: "PERMISSION_DENIED", message, data: { status: 403 } };
}

function tryParseHost(value: string): HostEntry | undefined {
  try {
    const url = new URL(`http://${value}`);
    if (url.username || url.password || url.pathname !== "/" || url.search || url.hash) return undefined;
    return { hostname: url.hostname.toLowerCase(), port: url.port };
  } catch {
    return undefined;
  }
}

function parseHostEntry(value: string, source: string): HostEntry {
  const entry = tryParseHost(value.trim());
  if (!entry) {
    throw fail.invalid(
      `${source}: ${JSON.stringify(value)} is not a host name; write name or name:port, e.g. mail.internal:8765.`,
    );
  }
  return entry;
}

function originHost(origin: string): HostEntry | undefined {
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    return { hostname: url.hostname.toLowerCase(), port: url.port };
  } catch {
    return undefined;
  }
}

/** `https://App.example:443/` and `https://app.example` compare equal; `null` stays `null`. */
function normalizeOrigin(origin: string): string {
  const trimmed = origin.trim();
  try {
    const url = new URL(trimmed);
    if (url.origin !== "null") return url.origin.toLowerCase();
  } catch {
    // Not a URL: compared as written.
  }
  return trimmed.toLowerCase();
}
