import { isIP } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Octokit } from "octokit";
import { fail, PigeonholeError } from "../../engine/errors.js";

/**
 * The GitHub REST client of `deploy --github`: octokit with our own bounded retry in place of its
 * retry and throttling plugins, because those ignore `Retry-After` on a 429 and space every write a
 * second apart (minutes for a bundle of a few hundred files). Requests run one at a time, as GitHub
 * asks of a single client, and rate limits are waited out when they say how long; secondary limits
 * without a hint back off from a minute, as GitHub documents.
 */

export const DEFAULT_API_URL = "https://api.github.com";

/** When to give up instead of waiting for a rate limit to reset. */
export interface RetryPolicy {
  /** Attempts per request in all (the first included). Default 4. */
  attempts?: number;
  /** The longest single wait; a reset further away fails at once with RATE_LIMITED. Default 5 minutes. */
  maxWaitMs?: number;
  /** Told before each wait (for a line on stderr). */
  onWait?: (wait: { ms: number; attempt: number; attempts: number; status: number; reason: string }) => void;
}

export interface GitHubClientOptions extends RetryPolicy {
  token: string;
  apiUrl?: string;
  userAgent: string;
  /** Per-request time limit. Default 2 minutes (a blob can be tens of megabytes). */
  requestTimeoutMs?: number;
}

/** What a failed request looks like to the retry and error code (octokit's RequestError). */
interface HttpFailure {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

const QUIET = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * An octokit client for `apiUrl` with the retry described above. Throws INVALID_ARGUMENT for an API URL
 * that is not https (plain http is accepted on loopback only, where tests run: the token would
 * otherwise travel in clear). The token is only ever put in the Authorization header; octokit's own
 * logging is silenced so nothing it prints can carry it.
 */
export function githubClient(options: GitHubClientOptions): InstanceType<typeof Octokit> {
  const apiUrl = checkApiUrl(options.apiUrl ?? DEFAULT_API_URL);
  const timeoutMs = options.requestTimeoutMs ?? 120_000;
  const octokit = new Octokit({
    auth: options.token,
    baseUrl: apiUrl,
    userAgent: options.userAgent,
    log: QUIET,
    throttle: { enabled: false },
    retry: { enabled: false },
    request: {
      fetch: (url: string | URL, init?: RequestInit) =>
        fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
    },
  });
  const attempts = Math.max(1, options.attempts ?? 4);
  const maxWaitMs = options.maxWaitMs ?? 5 * 60_000;
  octokit.hook.wrap("request", async (request, requestOptions) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(requestOptions);
      } catch (error) {
        const wait = retryWait(error as HttpFailure, attempt, Date.now());
        if (wait === null || attempt >= attempts) throw error;
        if (wait.ms > maxWaitMs) {
          throw new PigeonholeError(
            "RATE_LIMITED",
            `GitHub's rate limit holds for another ${Math.ceil(wait.ms / 60_000)} minutes (until ${new Date(Date.now() + wait.ms).toISOString()}); deploy again then.`,
          );
        }
        const status = (error as HttpFailure).status ?? 0;
        options.onWait?.({ ms: wait.ms, attempt, attempts, status, reason: wait.reason });
        await sleep(wait.ms);
      }
    }
  });
  return octokit;
}

/**
 * How long to wait before retrying a failed request, or null when retrying cannot help. A rate limit
 * (429, or 403 carrying a rate-limit header or message) waits `Retry-After` seconds, else until
 * `x-ratelimit-reset` (plus a second) when `x-ratelimit-remaining` is 0, else one minute doubling per
 * attempt. A 500/502/503/504 or a network failure backs off 1 s, 2 s, 4 s.
 */
export function retryWait(
  error: HttpFailure,
  attempt: number,
  nowMs: number,
): { ms: number; reason: string } | null {
  const status = error.status;
  const headers = error.response?.headers ?? {};
  if (status === 429 || (status === 403 && isRateLimit(error))) {
    const retryAfter = Number(headers["retry-after"]);
    if (headers["retry-after"] !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0) {
      return { ms: retryAfter * 1000, reason: "rate limited (Retry-After)" };
    }
    const reset = Number(headers["x-ratelimit-reset"]);
    if (String(headers["x-ratelimit-remaining"]) === "0" && Number.isFinite(reset)) {
      return { ms: Math.max(0, reset * 1000 - nowMs) + 1000, reason: "rate limit exhausted until its reset" };
    }
    return { ms: 60_000 * 2 ** (attempt - 1), reason: "secondary rate limit" };
  }
  if (error.response === undefined || [500, 502, 503, 504].includes(status ?? 0)) {
    return { ms: 1000 * 2 ** (attempt - 1), reason: `server or network error (${status ?? "no response"})` };
  }
  return null;
}

/** A 403/429 that is GitHub's rate limiting (a header or the message says so), not a missing permission. */
export function isRateLimited(error: unknown): boolean {
  const e = error as HttpFailure;
  return e.status === 429 || (e.status === 403 && isRateLimit(e));
}

function isRateLimit(error: HttpFailure): boolean {
  const headers = error.response?.headers ?? {};
  return (
    headers["retry-after"] !== undefined ||
    String(headers["x-ratelimit-remaining"]) === "0" ||
    /rate limit/i.test(error.message ?? "")
  );
}

/** What the error messages need to name. */
export interface GitHubContext {
  /** `owner/repo`. */
  repo: string;
  /** The environment variable the token came from. */
  tokenEnv: string;
  apiUrl: string;
}

/**
 * Turn a failed request of step `doing` (e.g. "create a blob") into a one-line PigeonholeError with a
 * fix: UNAUTHENTICATED for 401, PERMISSION_DENIED for a 403 that is not a rate limit, NOT_FOUND for 404,
 * CONFLICT for an empty repository or a branch that moved, RATE_LIMITED when retries ran out. A
 * PigeonholeError passes through. GitHub's message is quoted; the token never is.
 */
export function githubFailure(error: unknown, doing: string, ctx: GitHubContext): PigeonholeError {
  if (error instanceof PigeonholeError) return error;
  const e = error as HttpFailure;
  const said = githubMessage(e);
  const cannot = `Cannot ${doing} on ${ctx.repo}`;
  switch (e.status) {
    case 401:
      return new PigeonholeError(
        "UNAUTHENTICATED",
        `${cannot}: GitHub rejected the token in $${ctx.tokenEnv} (401 ${said}); create a new token and export it as ${ctx.tokenEnv}.`,
      );
    case 403:
    case 429:
      if (e.status === 429 || isRateLimit(e)) {
        return new PigeonholeError(
          "RATE_LIMITED",
          `${cannot}: still rate limited after retrying (${e.status} ${said}); wait and deploy again.`,
        );
      }
      return new PigeonholeError(
        "PERMISSION_DENIED",
        `${cannot}: the token in $${ctx.tokenEnv} lacks permission (403 ${said}); give it Contents: read and write and Pages: read and write on ${ctx.repo} (classic tokens: the repo scope).`,
      );
    case 404:
      return fail.notFound(
        `${cannot}: not found (404 ${said}); check the repository name, and that the token in $${ctx.tokenEnv} can see ${ctx.repo} (a token without access to a private repository gets 404).`,
      );
    case 409:
      return fail.conflict(
        /empty/i.test(said)
          ? `${cannot}: the repository is empty, and GitHub's Git API needs one commit; push any first commit (e.g. add a README on github.com) and deploy again.`
          : `${cannot}: conflict (409 ${said}); deploy again.`,
      );
    case 422:
      return /fast.forward/i.test(said)
        ? fail.conflict(`${cannot}: the branch changed while deploying (${said}); deploy again.`)
        : fail.invalid(`${cannot}: GitHub refused the request (422 ${said}).`);
    case undefined:
      return fail.notFound(
        `${cannot}: no answer from ${ctx.apiUrl} (${said}); check --api-url and the network.`,
      );
    default:
      if (e.response === undefined)
        return fail.notFound(
          `${cannot}: no answer from ${ctx.apiUrl} (${said}); check --api-url and the network.`,
        );
      return new PigeonholeError(
        "INTERNAL",
        `${cannot}: GitHub answered ${e.status} (${said}); try again later.`,
      );
  }
}

/** The `message` GitHub put in the response body, else the error's own message, on one line. */
function githubMessage(error: HttpFailure): string {
  const data = error.response?.data as { message?: unknown } | undefined;
  const text = typeof data?.message === "string" ? data.message : (error.message ?? "no message");
  return text
    .replace(/\s+/g, " ")
    .replace(/ - https:\/\/docs\.github\.com\S*/, "")
    .trim();
}

function checkApiUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail.invalid(`--api-url ${JSON.stringify(value)} is not a URL (default ${DEFAULT_API_URL}).`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const loopback = host === "localhost" || (isIP(host) === 4 ? host.startsWith("127.") : host === "::1");
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw fail.invalid(
      `--api-url must be https (plain http only on loopback, for tests): the token would travel in clear to ${url.host}.`,
    );
  }
  return url.href.replace(/\/+$/, "");
}
