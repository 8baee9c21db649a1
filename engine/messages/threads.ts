import { z } from "zod";
import { fail } from "../errors.js";
import type { Mailbox } from "../mailbox.js";
import { resolveProject } from "../projects.js";
import { parseOptionalTimestamp } from "../time.js";
import {
  AgentNameInput,
  FetchLimit,
  MessageId,
  ProjectKey,
  parseInput,
  ThreadId,
  TimestampInput,
  Topic,
} from "../validate.js";
import { VISIBLE_TO_VIEWER_SQL, visibleMessage } from "./access.js";
import { MESSAGE_COLUMNS, type MessageRow, type MessageView, shapeMessages } from "./shape.js";
import { resolveViewer } from "./viewer.js";

const ViewerName = AgentNameInput.optional().describe("See only what this agent sent or received");

export const FetchTopicInput = z.object({
  project_key: ProjectKey,
  topic_name: Topic,
  limit: FetchLimit(50),
  include_bodies: z.boolean().default(true),
  since_ts: TimestampInput.optional(),
  agent_name: ViewerName,
});
export type FetchTopicInput = z.input<typeof FetchTopicInput>;

/** Messages of a topic in the project, newest first, limited to what the viewer may see. */
export function fetchTopic(mb: Mailbox, input: FetchTopicInput): MessageView[] {
  const args = parseInput(FetchTopicInput, input);
  const project = resolveProject(mb, args.project_key);
  const viewer = resolveViewer(mb, project, args.agent_name);
  const rows = mb
    .statement<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN agents s ON s.id = m.sender_id
       WHERE m.project_id = @project AND m.topic = @topic
         ${viewer ? `AND ${VISIBLE_TO_VIEWER_SQL}` : ""} ${args.since_ts !== undefined ? "AND m.created_ts > @since" : ""}
       ORDER BY m.id DESC LIMIT @limit`,
    )
    .all({
      project: project.id,
      topic: args.topic_name,
      viewer: viewer?.id ?? null,
      limit: args.limit,
      since: parseOptionalTimestamp(args.since_ts, "since_ts"),
    });
  return shapeMessages(mb, rows, { viewer: viewer?.name ?? null, includeBodies: args.include_bodies });
}

export const GetMessageInput = z.object({
  project_key: ProjectKey,
  message_id: MessageId,
  agent_name: ViewerName,
});
export type GetMessageInput = z.input<typeof GetMessageInput>;

/** One message with its body, if the viewer may see it (else NOT_FOUND). */
export function getMessage(mb: Mailbox, input: GetMessageInput): MessageView & { body_md: string } {
  const args = parseInput(GetMessageInput, input);
  const project = resolveProject(mb, args.project_key);
  const viewer = resolveViewer(mb, project, args.agent_name);
  const row = visibleMessage(mb, project, args.message_id, viewer);
  return shapeMessages(mb, [row], { viewer: viewer?.name ?? null, includeBodies: true })[0] as MessageView & {
    body_md: string;
  };
}

export const GetThreadInput = z.object({
  project_key: ProjectKey,
  thread_id: ThreadId,
  include_bodies: z.boolean().default(true),
  agent_name: ViewerName,
  limit: FetchLimit(1000),
});
export type GetThreadInput = z.input<typeof GetThreadInput>;

/**
 * A thread in order, oldest first: its root (the message whose id is `thread_id`, when numeric) and every
 * message carrying that `thread_id`, limited to what the viewer may see. A viewer sees the whole thread
 * across projects (a cross-project reply is stored in the replier's project); the operator view is
 * the project's part. NOT_FOUND when none is visible.
 */
export function getThread(
  mb: Mailbox,
  input: GetThreadInput,
): { thread_id: string; project: string; messages: MessageView[] } {
  const args = parseInput(GetThreadInput, input);
  const project = resolveProject(mb, args.project_key);
  const viewer = resolveViewer(mb, project, args.agent_name);
  const rows = mb
    .statement<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN agents s ON s.id = m.sender_id
       WHERE (m.thread_id = @thread OR (m.id = @root AND m.thread_id IS NULL))
         AND (m.project_id = @project OR @viewer IS NOT NULL)
         ${viewer ? `AND ${VISIBLE_TO_VIEWER_SQL}` : ""}
       ORDER BY m.id LIMIT @limit`,
    )
    .all({
      project: project.id,
      thread: args.thread_id,
      root: /^\d+$/.test(args.thread_id) ? Number(args.thread_id) : null,
      viewer: viewer?.id ?? null,
      limit: args.limit,
    });
  if (rows.length === 0) {
    throw fail.notFound(
      `Thread ${JSON.stringify(args.thread_id)} has no message visible here in project ${project.slug}.`,
      {
        thread_id: args.thread_id,
      },
    );
  }
  return {
    thread_id: args.thread_id,
    project: project.slug,
    messages: shapeMessages(mb, rows, { viewer: viewer?.name ?? null, includeBodies: args.include_bodies }),
  };
}
