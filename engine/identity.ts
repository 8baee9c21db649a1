import { createHash, timingSafeEqual } from "node:crypto";
import type { Mailbox } from "./mailbox.js";

/** Outcome of presenting a registration token for an agent name. */
export type TokenCheck = "ok" | "mismatch" | "unknown";

/**
 * Whether `token` is the registration token of the agent called `name` (names are unique across
 * projects). Compares digests in constant time, so timing reveals nothing about the token.
 */
export function checkRegistrationToken(mb: Mailbox, name: string, token: string | undefined): TokenCheck {
  const row = mb
    .statement<{ registration_token: string }>(
      "SELECT registration_token FROM agents WHERE name = ? COLLATE NOCASE",
    )
    .get(name);
  if (!row) return "unknown";
  if (token === undefined) return "mismatch";
  const digest = (value: string) => createHash("sha256").update(value).digest();
  return timingSafeEqual(digest(row.registration_token), digest(token)) ? "ok" : "mismatch";
}

/** The slug of the project the agent called `name` belongs to (names are unique across projects), if any. */
export function projectOfAgent(mb: Mailbox, name: string): string | undefined {
  return mb
    .statement<{ slug: string }>(
      "SELECT p.slug FROM agents a JOIN projects p ON p.id = a.project_id WHERE a.name = ? COLLATE NOCASE",
    )
    .get(name)?.slug;
}
