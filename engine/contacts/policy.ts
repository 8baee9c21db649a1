import type { AgentRow } from "../agents.js";
import { PigeonholeError } from "../errors.js";
import type { Mailbox } from "../mailbox.js";
import type { Delivery } from "../messages/recipients.js";
import { holdOverlappingReservations } from "../reservations/contact-rule.js";

/** Seconds within which taking part in a thread together (or exchanging mail) admits contact under `auto`. */
export const CONTACT_WINDOW_SECONDS = 30 * 24 * 3600;

export type ContactPolicy = AgentRow["contact_policy"];
export const CONTACT_POLICIES = ["open", "auto", "contacts_only", "block_all"] as const;

/** Why a delivery is allowed; `null` when it is not. */
type Allowance = string | null;

function linkStatus(mb: Mailbox, from: AgentRow, to: AgentRow): "approved" | "blocked" | "pending" | null {
  const row = mb
    .statement<{ status: string; expires_ts: string | null }>(
      "SELECT status, expires_ts FROM agent_links WHERE from_agent_id = ? AND to_agent_id = ?",
    )
    .get(from.id, to.id);
  if (!row) return null;
  if (row.status === "blocked") return "blocked";
  if (row.expires_ts !== null && row.expires_ts <= mb.now()) return null;
  return row.status as "approved" | "pending";
}

/** True when `recipient` has ever sent mail to `sender` (the recipient opened the conversation). */
function recipientWroteFirst(mb: Mailbox, sender: AgentRow, recipient: AgentRow): boolean {
  return (
    mb
      .statement(
        `SELECT 1 FROM messages m JOIN message_recipients r ON r.message_id = m.id
         WHERE m.sender_id = ? AND r.agent_id = ? AND m.purpose = 'message' LIMIT 1`,
      )
      .get(recipient.id, sender.id) !== undefined
  );
}

/**
 * True when both agents took part (as sender or recipient) in one thread within the contact window. A
 * direct exchange of mail is such a thread, so this is also the "recently in contact" rule.
 */
function sharedRecentThread(mb: Mailbox, a: AgentRow, b: AgentRow): boolean {
  const since = new Date(mb.nowDate().getTime() - CONTACT_WINDOW_SECONDS * 1000).toISOString();
  return (
    mb
      .statement(
        `SELECT 1 FROM thread_participants x
         JOIN thread_participants y ON y.thread_key = x.thread_key AND y.agent_id = @b AND y.last_ts > @since
         WHERE x.agent_id = @a AND x.last_ts > @since LIMIT 1`,
      )
      .get({ a: a.id, b: b.id, since }) !== undefined
  );
}

function hasApprovedLink(mb: Mailbox, a: AgentRow, b: AgentRow): boolean {
  return linkStatus(mb, a, b) === "approved" || linkStatus(mb, b, a) === "approved";
}

/**
 * Whether `sender` may write to `recipient` under the recipient's policy. A `contact_request` (the intro
 * message of request_contact) passes `auto` and `contacts_only`, since asking is how one becomes a
 * contact, but never `block_all` or a declined request.
 */
function allowance(mb: Mailbox, sender: AgentRow, recipient: AgentRow, purpose: DeliveryPurpose): Allowance {
  if (sender.id === recipient.id) return "self";
  if (linkStatus(mb, sender, recipient) === "blocked") return null;
  const policy = recipient.contact_policy;
  if (policy === "block_all") return null;
  if (policy === "open") return "open";
  if (purpose === "contact_request") return "contact request";
  if (policy === "auto" && sender.project_id === recipient.project_id) return "same project";
  if (hasApprovedLink(mb, sender, recipient)) return "approved contact";
  if (policy === "contacts_only")
    return recipientWroteFirst(mb, sender, recipient) ? "recipient wrote first" : null;
  if (sharedRecentThread(mb, sender, recipient)) return "thread together";
  if (holdOverlappingReservations(mb, sender, recipient)) return "overlapping reservations";
  return null;
}

/** What a delivery is for: ordinary mail, or the intro message of a contact request. */
export type DeliveryPurpose = "message" | "contact_request";

/**
 * Refuse the whole send unless every recipient's contact policy admits the sender (no partial sends).
 * `block_all` or a declined request → CONTACT_BLOCKED; otherwise a refusal → CONTACT_REQUIRED, naming
 * each recipient and how to ask for contact.
 */
export function assertMayContact(
  mb: Mailbox,
  sender: AgentRow,
  deliveries: readonly Delivery[],
  purpose: DeliveryPurpose = "message",
): void {
  const refused = deliveries.filter((d) => allowance(mb, sender, d.agent, purpose) === null);
  if (refused.length === 0) return;
  const blocked = refused.filter(
    (d) => d.agent.contact_policy === "block_all" || linkStatus(mb, sender, d.agent) === "blocked",
  );
  const names = refused.map((d) => d.agent.name);
  const data = {
    recipients: refused.map((d) => ({
      name: d.agent.name,
      project: d.project.slug,
      policy: d.agent.contact_policy,
    })),
  };
  if (blocked.length > 0) {
    throw new PigeonholeError(
      "CONTACT_BLOCKED",
      `${blocked.map((d) => d.agent.name).join(", ")} accept${blocked.length === 1 ? "s" : ""} no mail from ${sender.name} (policy block_all or a declined contact request). Nothing was sent.`,
      data,
    );
  }
  throw new PigeonholeError(
    "CONTACT_REQUIRED",
    `${sender.name} is not a contact of ${names.join(", ")}. Call request_contact (from_agent: ${sender.name}, to_agent: ${names[0]}${refused[0]?.project.id !== sender.project_id ? `, to_project: ${refused[0]?.project.slug}` : ""}) and wait for approval. Nothing was sent.`,
    data,
  );
}
