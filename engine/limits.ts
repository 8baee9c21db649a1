/**
 * Size limits on every input. Over-limit input is refused with `TOO_LARGE` (never truncated); the
 * README's "Limits" table is generated from this object by a test, so the two cannot drift.
 */
export const LIMITS = {
  /** Agent names: also constrained by AGENT_NAME_PATTERN. */
  agentNameChars: 128,
  /** Project human key (usually an absolute path). */
  humanKeyChars: 4096,
  programChars: 200,
  modelChars: 200,
  taskDescriptionChars: 4096,
  subjectChars: 1000,
  /** Message body, UTF-8 bytes. */
  bodyBytes: 1024 * 1024,
  /** `payload` serialized as JSON, UTF-8 bytes. */
  payloadBytes: 64 * 1024,
  topicChars: 128,
  threadIdChars: 256,
  /** to + cc + bcc after expansion. */
  recipients: 500,
  attachmentsPerMessage: 20,
  /** One entry of `attachment_paths`, characters. */
  attachmentPathChars: 4096,
  /** One attachment file, bytes. */
  attachmentBytes: 25 * 1024 * 1024,
  /** Images at or under this size after WebP conversion are inlined into the message as a data URI. */
  inlineImageBytes: 64 * 1024,
  searchQueryChars: 1000,
  fetchLimit: 1000,
  ttlSeconds: 365 * 24 * 3600,
  /** One file reservation pattern (a repository-relative glob), characters after normalization. */
  reservationPatternChars: 512,
  /** Patterns in one `file_reservation_paths` call (and paths/ids in one renew or release). */
  reservationPathsPerCall: 100,
  /** Longest lease (`ttl_seconds`), and the furthest a renewal may push a lease from now. */
  reservationTtlSeconds: 30 * 24 * 3600,
  /** `reason` of a file reservation, characters. */
  reservationReasonChars: 1000,
  /** `note` sent with a force release, characters. */
  reservationNoteChars: 4000,
  /** Threads in one comma-separated `summarize_thread` call. */
  summaryThreads: 20,
  /** `per_thread_limit` of `summarize_thread`: messages summarized per thread. */
  summaryMessagesPerThread: 500,
  /** manifest.json of a bundle being verified, bytes. */
  bundleManifestBytes: 64 * 1024 * 1024,
  /** A bundle zip (verify, decrypt, preview): its files' total unpacked size, bytes; guards against zip bombs. */
  bundleZipBytes: 1024 * 1024 * 1024,
  /** A bundle zip: entries (files and directories). */
  bundleZipEntries: 200_000,
} as const;

/** Agent names: a letter or digit, then letters, digits, dot, underscore or hyphen. */
export const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Topics: a short tag such as `build-failures` or `release.v2`. */
export const TOPIC_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;
