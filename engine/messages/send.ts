import { z } from "zod";
import { type AgentRow, assertActive, resolveAgent, touchAgent } from "../agents.js";
import { enqueueArchiveJob } from "../archive/jobs.js";
import { assertMayContact, type DeliveryPurpose } from "../contacts/policy.js";
import { fail } from "../errors.js";
import { LIMITS } from "../limits.js";
import type { Mailbox } from "../mailbox.js";
import { type Project, resolveProject } from "../projects.js";
import { addSeconds } from "../time.js";
import {
  AgentNameInput,
  checkBytes,
  Importance,
  NameList,
  ProjectKey,
  parseInput,
  ThreadId,
  Topic,
} from "../validate.js";
import {
  attachmentView,
  insertAttachments,
  type PreparedAttachment,
  prepareAttachments,
} from "./attachments.js";
import { type Delivery, refreshDeliveries, resolveRecipients } from "./recipients.js";
import { MESSAGE_COLUMNS, type MessageRow, type MessageView, shapeMessages } from "./shape.js";

export const SendMessageInput = z.object({
  project_key: ProjectKey,
  sender_name: AgentNameInput.describe("The sending agent"),
  to: NameList.default([]),
  subject: z
    .string()
    .max(LIMITS.subjectChars)
    .refine((s) => s.trim() !== "", "subject must not be empty or blank"),
  body_md: z.string().describe("Markdown body"),
  cc: NameList.default([]),
  bcc: NameList.default([]),
  attachment_paths: z
    .array(z.string().min(1).max(LIMITS.attachmentPathChars))
    .default([])
    .describe("Files to attach (inside the project directory)"),
  importance: Importance.default("normal"),
  ack_required: z.boolean().default(false),
  thread_id: ThreadId.optional().describe("Thread to post into; default: a new thread"),
  topic: Topic.optional().describe("Topic tag, fetchable with fetch_topic"),
  broadcast: z
    .boolean()
    .default(false)
    .describe("With an empty `to`: send to every active agent of the project"),
  payload: z.unknown().optional().describe("Free JSON for machines"),
  ttl_seconds: z
    .number()
    .int()
    .positive()
    .max(LIMITS.ttlSeconds)
    .optional()
    .describe("Unread mail expires after this"),
  must_read: z.boolean().default(false).describe("Never expires; stays until acknowledged"),
});
export type SendMessageInput = z.input<typeof SendMessageInput>;

/** One delivery group of a send: the recipients' project and the message as the sender sees it. */
export interface DeliveryResult {
  project: string;
  payload: MessageView & { body_md: string };
}

export interface SendMessageResult {
  deliveries: DeliveryResult[];
  count: number;
}

/** What `deliver` stores: the validated fields of a new message. */
export interface NewMessage {
  project: Project;
  sender: AgentRow;
  deliveries: Delivery[];
  subject: string;
  body_md: string;
  importance: Importance;
  ack_required: boolean;
  must_read: boolean;
  thread_id: string | null;
  reply_to: number | null;
  topic: string | null;
  payload: unknown;
  ttl_seconds: number | undefined;
  attachment_paths: readonly string[];
  /** Ordinary mail (default) or a contact request's intro message; contact policies treat them differently. */
  purpose?: DeliveryPurpose;
}

/**
 * Send a message. Resolves and checks every recipient before storing anything; stores the message, its
 * deliveries, attachments and archive job in one transaction, so a send either happened completely or
 * not at all. `broadcast` with an empty `to` addresses every active agent of the project but the sender.
 */
export async function sendMessage(mb: Mailbox, input: SendMessageInput): Promise<SendMessageResult> {
  const args = parseInput(SendMessageInput, input);
  if (args.attachment_paths.length === 0) {
    // Nothing to prepare outside a transaction: look up, check and store under one write lock, so the
    // rows looked up need no second reading before the insert.
    return mb.write(() => {
      const addressed = address(mb, args);
      const m = newMessage(args, addressed);
      return deliveryResult(store(mb, m, checkContent(m), []), addressed.deliveries);
    });
  }
  const addressed = mb.read(() => address(mb, args));
  const message = await deliver(mb, newMessage(args, addressed));
  return deliveryResult(message, addressed.deliveries);
}

/** The message a send's arguments describe, to the addressed recipients. */
function newMessage(
  args: z.output<typeof SendMessageInput>,
  addressed: { project: Project; sender: AgentRow; deliveries: Delivery[] },
): NewMessage {
  return {
    ...addressed,
    subject: args.subject,
    body_md: args.body_md,
    importance: args.importance,
    ack_required: args.ack_required,
    must_read: args.must_read,
    thread_id: args.thread_id ?? null,
    reply_to: null,
    topic: args.topic ?? null,
    payload: args.payload,
    ttl_seconds: args.ttl_seconds,
    attachment_paths: args.attachment_paths,
  };
}

/** Resolve a send's project, sender and recipients, refusing a send that has nobody to go to. */
function address(
  mb: Mailbox,
  args: z.output<typeof SendMessageInput>,
): { project: Project; sender: AgentRow; deliveries: Delivery[] } {
  const project = resolveProject(mb, args.project_key);
  const sender = resolveAgent(mb, project, args.sender_name);
  assertActive(sender, "sender");
  let to = args.to;
  if (args.broadcast) {
    if (to.length > 0)
      throw fail.invalid("broadcast sends to every active agent; leave `to` empty when broadcast is true");
    to = mb
      .statement<{ name: string }>(
        "SELECT name FROM agents WHERE project_id = ? AND retired_ts IS NULL AND id != ? ORDER BY id",
      )
      .all(project.id, sender.id)
      .map((r) => r.name);
    if (to.length === 0)
      throw fail.invalid(`broadcast found no other active agent in project ${project.slug}`);
  }
  const deliveries = resolveRecipients(mb, project, { to, cc: args.cc, bcc: args.bcc });
  if (deliveries.length === 0) {
    throw fail.invalid(
      "No recipients: name at least one agent in `to` (or `cc`/`bcc`), or set broadcast: true",
    );
  }
  return { project, sender, deliveries };
}

/** Group a stored message's deliveries by recipient project (one entry per project). */
export function deliveryResult(
  message: MessageView & { body_md: string },
  deliveries: Delivery[],
): SendMessageResult {
  const projects = [...new Set(deliveries.map((d) => d.project.slug))];
  const result = projects.map((project) => ({ project, payload: message }));
  return { deliveries: result, count: result.length };
}

/**
 * Store a new message (checked sizes, attachments, deliveries, archive job) and return it as its sender
 * sees it. Shared by send and reply so both obey the same rules.
 */
export async function deliver(mb: Mailbox, m: NewMessage): Promise<MessageView & { body_md: string }> {
  const payloadJson = checkContent(m);
  // Refuse early when attachments would otherwise be stored for a send that cannot happen.
  if (m.attachment_paths.length > 0) assertMayContact(mb, m.sender, m.deliveries, m.purpose);
  const attachments =
    m.attachment_paths.length > 0 ? await prepareAttachments(mb, m.project, m.attachment_paths) : [];
  return mb.write(() => {
    // Read again inside the transaction: an agent retired, or a policy changed, a moment ago counts.
    const { sender, deliveries } = refreshDeliveries(mb, m.sender, m.deliveries);
    return store(mb, { ...m, sender, deliveries }, payloadJson, attachments);
  });
}

/** Refuse an over-limit body or payload; returns the payload as stored (JSON text, or null). */
function checkContent(m: NewMessage): string | null {
  checkBytes(m.body_md, LIMITS.bodyBytes, "body_md");
  return serializePayload(m.payload);
}

/**
 * Insert a checked message, its deliveries, attachments and archive job, inside the caller's write
 * transaction, with `m.sender` and `m.deliveries` as read in that transaction: whether they are active
 * and may be written to is decided here, on the state the message commits against.
 */
function store(
  mb: Mailbox,
  m: NewMessage,
  payloadJson: string | null,
  attachments: readonly PreparedAttachment[],
): MessageView & { body_md: string } {
  const { sender, deliveries } = m;
  assertActive(sender, "sender");
  for (const d of deliveries) assertActive(d.agent, "recipient");
  assertMayContact(mb, sender, deliveries, m.purpose);
  const created = mb.now();
  const expires = m.ttl_seconds === undefined || m.must_read ? null : addSeconds(created, m.ttl_seconds);
  const ackRequired = m.ack_required || m.must_read ? 1 : 0;
  const mustRead = m.must_read ? 1 : 0;
  const info = mb
    .statement(
      `INSERT INTO messages (project_id, sender_id, thread_id, reply_to, topic, subject, body_md, importance,
         ack_required, must_read, payload, expires_ts, created_ts, purpose)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      m.project.id,
      m.sender.id,
      m.thread_id,
      m.reply_to,
      m.topic,
      m.subject,
      m.body_md,
      m.importance,
      ackRequired,
      mustRead,
      payloadJson,
      expires,
      created,
      m.purpose ?? "message",
    );
  const messageId = Number(info.lastInsertRowid);
  const insertRecipient = mb.statement(
    "INSERT INTO message_recipients (message_id, agent_id, kind, ordinal) VALUES (?, ?, ?, ?)",
  );
  deliveries.forEach((d, ordinal) => {
    insertRecipient.run(messageId, d.agent.id, d.kind, ordinal);
  });
  insertAttachments(mb, messageId, attachments);
  touchAgent(mb, sender.id, sender.last_active_ts);
  enqueueArchiveJob(mb, "message", messageId);
  // The sender's view is shaped from the values just stored, sparing the three queries (and read
  // locks) of loading it back; test/engine/attachments.test.ts holds it equal to `loadMessageView`.
  const row: MessageRow = {
    id: messageId,
    project_id: m.project.id,
    sender_id: m.sender.id,
    sender_name: sender.name,
    thread_id: m.thread_id,
    reply_to: m.reply_to,
    topic: m.topic,
    subject: m.subject,
    body_md: m.body_md,
    importance: m.importance,
    ack_required: ackRequired,
    must_read: mustRead,
    payload: payloadJson,
    expires_ts: expires,
    created_ts: created,
  };
  const recipients = deliveries.map((d) => ({
    message_id: messageId,
    agent_id: d.agent.id,
    name: d.agent.name,
    kind: d.kind,
    read_ts: null,
    ack_ts: null,
  }));
  return shapeMessages(mb, [row], {
    viewer: sender.name,
    includeBodies: true,
    recipients: new Map([[messageId, recipients]]),
    attachments: new Map([[messageId, attachments.map(attachmentView)]]),
  })[0] as MessageView & { body_md: string };
}

/** One message as `viewer` sees it, with body. The caller has already checked the viewer may see it. */
export function loadMessageView(
  mb: Mailbox,
  id: number,
  viewer: string | null,
): MessageView & { body_md: string } {
  const row = mb
    .statement<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN agents s ON s.id = m.sender_id WHERE m.id = ?`,
    )
    .get(id);
  if (!row) throw fail.notFound(`Message ${id} not found.`, { message_id: id });
  return shapeMessages(mb, [row], { viewer, includeBodies: true })[0] as MessageView & { body_md: string };
}

function serializePayload(payload: unknown): string | null {
  if (payload === undefined || payload === null) return null;
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    // Valid JSON can still be too deep to serialize: thousands of nested arrays exhaust the stack.
    if (error instanceof RangeError) {
      throw fail.tooLarge(
        "payload is nested too deeply to store; flatten it to a few levels of objects and arrays.",
        {
          field: "payload",
        },
      );
    }
    json = undefined;
  }
  // JSON.stringify throws for cycles and BigInt but returns undefined for functions and symbols.
  if (json === undefined) {
    throw fail.invalid("payload must be plain JSON (objects, arrays, strings, numbers, booleans, null)", {
      field: "payload",
    });
  }
  checkBytes(json, LIMITS.payloadBytes, "payload");
  return json;
}
