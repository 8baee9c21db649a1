import { type ErrorCode, PigeonholeError } from "../../engine/index.js";

/**
 * How failures become HTTP statuses on the REST API. Engine errors keep their canonical body
 * `{error:{type, message, recoverable, data}}`; the status only classifies them for HTTP clients.
 */

/**
 * The status of each error code. A retired recipient is a state of the mailbox the request clashes with
 * (409, like CONFLICT: unretiring it fixes it); contact rules are the recipient refusing this sender (403).
 */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  TOO_LARGE: 413,
  NOT_FOUND: 404,
  CONFLICT: 409,
  AGENT_RETIRED: 409,
  CONTACT_REQUIRED: 403,
  CONTACT_BLOCKED: 403,
  PERMISSION_DENIED: 403,
  BUSY: 503,
  INTERNAL: 500,
};

/**
 * A request the REST layer refuses before any tool runs, with the status to answer (405, 415, 413, 400)
 * and any headers that go with it (`Allow`).
 */
export class HttpProblem extends Error {
  readonly status: number;
  readonly error: PigeonholeError;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, error: PigeonholeError, headers: Record<string, string> = {}) {
    super(error.message);
    this.status = status;
    this.error = error;
    this.headers = headers;
  }
}

/** An `HttpProblem` carrying an INVALID_ARGUMENT body (for statuses without an engine code of their own). */
export function httpProblem(
  status: number,
  message: string,
  data: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): HttpProblem {
  return new HttpProblem(status, new PigeonholeError("INVALID_ARGUMENT", message, data), headers);
}
