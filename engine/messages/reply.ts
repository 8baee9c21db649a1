import { z } from "zod";
import { assertActive, resolveAgent } from "../agents.js";
import { fail } from "../errors.js";
import { LIMITS } from "../limits.js";
import type { Mailbox } from "../mailbox.js";
import { type Project, resolveProject } from "../projects.js";
import { AgentNameInput, MessageId, NameList, ProjectKey, parseInput } from "../validate.js";
import { visibleMessage } from "./access.js";
import { resolveRecipients } from "./recipients.js";
import { deliver, deliveryResult, type SendMessageResult } from "./send.js";
import { type MessageView, recipientsFor } from "./shape.js";

export const ReplyMessageInput = z.object({
  project_key: ProjectKey,
  message_id: MessageId,
  sender_name: AgentNameInput,
  body_md: z.string(),
  to: NameList.optional().describe("Default: the original sender"),
  cc: NameList.default([]),
  bcc: NameList.default([]),
  subject_prefix: z.string().max(32).default("Re:"),
  attachment_paths: z.array(z.string().min(1).max(LIMITS.attachmentPathChars)).default([]),
});
export type ReplyMessageInput = z.input<typeof ReplyMessageInput>;

export type ReplyMessageResult = MessageView & {
  body_md: string;
  reply_to: number;
  thread_id: string;
} & SendMessageResult;

/** `subject` with `prefix` in front, unless it already starts with it (case-insensitively). */
export function prefixSubject(subject: string, prefix: string): string {
  const p = prefix.trim();
  if (p === "" || subject.toLowerCase().startsWith(p.toLowerCase())) return subject;
  return `${p} ${subject}`;
}

/** How an agent is addressed from `project`: its name, or `Name@slug` when it lives in another project. */
function addressOf(mb: Mailbox, project: Project, agentId: number): string {
  const row = mb
    .statement<{ name: string; project_id: number; slug: string }>(
      "SELECT a.name, a.project_id, p.slug FROM agents a JOIN projects p ON p.id = a.project_id WHERE a.id = ?",
    )
    .get(agentId);
  if (!row) throw fail.notFound(`Agent ${agentId} not found.`, { agent_id: agentId });
  return row.project_id === project.id ? row.name : `${row.name}@${row.slug}`;
}

/**
 * Reply within the original's thread (its `thread_id`, else its id), inheriting importance,
 * ack_required and topic. `to` defaults to the original sender (or, when the original sender replies, to
 * the original `to`), as `Name@project` when that agent lives in another project. Only someone who sent
 * or received the original may reply to it.
 */
export async function replyMessage(mb: Mailbox, input: ReplyMessageInput): Promise<ReplyMessageResult> {
  const args = parseInput(ReplyMessageInput, input);
  const project = resolveProject(mb, args.project_key);
  const sender = resolveAgent(mb, project, args.sender_name);
  assertActive(sender, "sender");
  const original = visibleMessage(mb, project, args.message_id, sender);
  let to = args.to;
  if (to === undefined) {
    const originalTo = (recipientsFor(mb, [original.id]).get(original.id) ?? [])
      .filter((r) => r.kind === "to")
      .map((r) => r.agent_id);
    const defaults = original.sender_id === sender.id ? originalTo : [original.sender_id];
    to = defaults.map((agentId) => addressOf(mb, project, agentId));
  }
  const subject = prefixSubject(original.subject, args.subject_prefix);
  if (subject.length > LIMITS.subjectChars) {
    throw fail.tooLarge(
      `The reply subject would be ${subject.length} characters; the limit is ${LIMITS.subjectChars}. Use an empty subject_prefix.`,
    );
  }
  const deliveries = resolveRecipients(mb, project, { to, cc: args.cc, bcc: args.bcc });
  if (deliveries.length === 0) throw fail.invalid("The reply has no recipients; name at least one in `to`.");
  const threadId = original.thread_id ?? String(original.id);
  const message = await deliver(mb, {
    project,
    sender,
    deliveries,
    subject,
    body_md: args.body_md,
    importance: original.importance,
    ack_required: original.ack_required === 1,
    must_read: false,
    thread_id: threadId,
    reply_to: original.id,
    topic: original.topic,
    payload: undefined,
    ttl_seconds: undefined,
    attachment_paths: args.attachment_paths,
  });
  return { ...message, thread_id: threadId, reply_to: original.id, ...deliveryResult(message, deliveries) };
}
