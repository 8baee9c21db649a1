/**
 * Typed errors at the engine boundary. Every failure a caller can cause is a `PigeonholeError` with a
 * stable `code`; the message says what was wrong and how to fix it. Anything else escaping the engine
 * is a bug and is reported as `INTERNAL` by the server without its stack.
 */

/** Stable error codes. Never renamed: agents and scripts branch on them. */
export const ERROR_CODES = {
  INVALID_ARGUMENT: { recoverable: true },
  TOO_LARGE: { recoverable: true },
  NOT_FOUND: { recoverable: true },
  CONFLICT: { recoverable: true },
  AGENT_RETIRED: { recoverable: true },
  CONTACT_REQUIRED: { recoverable: true },
  CONTACT_BLOCKED: { recoverable: false },
  PERMISSION_DENIED: { recoverable: false },
  UNAUTHENTICATED: { recoverable: false },
  RATE_LIMITED: { recoverable: true },
  BUSY: { recoverable: true },
  INTERNAL: { recoverable: false },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The error every engine operation throws for a failure the caller can cause or act on. */
export class PigeonholeError extends Error {
  override readonly name = "PigeonholeError";
  readonly code: ErrorCode;
  readonly recoverable: boolean;
  readonly data: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.recoverable = ERROR_CODES[code].recoverable;
    this.data = data;
  }

  /** The wire shape shared by MCP tool errors, REST and the CLI's `--json`. */
  toJSON(): {
    error: { type: ErrorCode; message: string; recoverable: boolean; data: Record<string, unknown> };
  } {
    return {
      error: { type: this.code, message: this.message, recoverable: this.recoverable, data: this.data },
    };
  }
}

/** True when `value` is a `PigeonholeError` (also across duplicated module instances). */
export function isPigeonholeError(value: unknown): value is PigeonholeError {
  return value instanceof PigeonholeError || (value instanceof Error && value.name === "PigeonholeError");
}

/** Shorthand constructors, so call sites read as the rule they enforce. */
export const fail = {
  invalid: (message: string, data?: Record<string, unknown>) =>
    new PigeonholeError("INVALID_ARGUMENT", message, data),
  tooLarge: (message: string, data?: Record<string, unknown>) =>
    new PigeonholeError("TOO_LARGE", message, data),
  notFound: (message: string, data?: Record<string, unknown>) =>
    new PigeonholeError("NOT_FOUND", message, data),
  conflict: (message: string, data?: Record<string, unknown>) =>
    new PigeonholeError("CONFLICT", message, data),
};
