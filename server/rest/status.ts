import type { ErrorCode } from "../../engine/index.js";

/**
 * How engine errors become HTTP statuses on the REST API. The body stays the canonical
 * `{error:{type, message, recoverable, data}}`; the status only classifies it for HTTP clients.
 * A retired recipient is a state of the mailbox the request clashes with (409, like CONFLICT: unretiring
 * it fixes it); contact rules are the recipient refusing this sender (403).
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
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
  BUSY: 503,
  INTERNAL: 500,
};
