/**
 * A bundle reader: the one interface `verifyBundle` reads a bundle through, whatever holds it (a
 * directory, a zip in memory, a web server, or in the viewer a fetch or a dropped file). Browser-safe.
 */
export interface BundleReader {
  /** What is being read, for messages: a path or a URL. */
  readonly source: string;
  /**
   * Every file path in the bundle (`/`-separated, relative), or null when the source cannot be listed
   * (a web server), in which case unlisted files cannot be detected.
   */
  list(): Promise<string[] | null>;
  /**
   * The bytes of the file at `path` (a safe bundle path), or null when there is no such file. Returns at
   * most `limit + 1` bytes, so a file larger than expected is detected without reading all of it. Throws
   * when the file exists but cannot be read.
   */
  read(path: string, limit: number): Promise<Uint8Array | null>;
  /** Release what the reader holds. Idempotent. */
  close(): Promise<void>;
}
