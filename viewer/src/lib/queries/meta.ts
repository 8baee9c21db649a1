import type { ViewerDatabase } from "../database.js";

/** The version of the viewer tables (README "Bundle database schema") this viewer reads. */
export const VIEWER_SCHEMA_VERSION = "1";

/**
 * Why this viewer cannot read the database, or null when it can: the exporter's viewer tables must be
 * there, in the version this viewer knows.
 */
export function schemaProblem(db: ViewerDatabase): string | null {
  if (!db.has("viewer_meta")) {
    return "the bundle's database has no viewer tables: it was not made by pigeonhole export";
  }
  const version = db.get<{ value: string }>(
    "SELECT value FROM viewer_meta WHERE key = 'schema_version'",
  )?.value;
  if (version !== VIEWER_SCHEMA_VERSION) {
    return `the bundle's database has viewer schema ${version ?? "(none)"}; this viewer reads version ${VIEWER_SCHEMA_VERSION}`;
  }
  return null;
}
