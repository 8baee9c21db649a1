import type { AgentRow } from "../agents.js";
import { fail } from "../errors.js";
import type { Mailbox } from "../mailbox.js";
import type { Project } from "../projects.js";
import { MESSAGE_COLUMNS, type MessageRow } from "./shape.js";

/**
 * The message `id` of `project` if `viewer` may see it (its sender or one of its recipients; with a null
 * viewer, the project-wide view). Otherwise NOT_FOUND — the same answer as for a message that does not
 * exist, so existence does not leak.
 */
export function visibleMessage(
  mb: Mailbox,
  project: Project,
  id: number,
  viewer: AgentRow | null,
): MessageRow {
  const row = mb
    .statement<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m JOIN agents s ON s.id = m.sender_id
       WHERE m.id = @id AND (m.project_id = @project OR @viewer IS NOT NULL)
         AND (@viewer IS NULL OR m.sender_id = @viewer
              OR EXISTS (SELECT 1 FROM message_recipients r WHERE r.message_id = m.id AND r.agent_id = @viewer))`,
    )
    .get({ id, project: project.id, viewer: viewer?.id ?? null });
  if (!row) {
    throw fail.notFound(
      `Message ${id} not found${viewer ? ` among the messages ${viewer.name} sent or received` : ` in project ${project.slug}`}.`,
      { message_id: id },
    );
  }
  return row;
}

/** SQL condition (over `m`) true when agent `@viewer` sent or received the message. */
export const VISIBLE_TO_VIEWER_SQL =
  "(m.sender_id = @viewer OR EXISTS (SELECT 1 FROM message_recipients rv WHERE rv.message_id = m.id AND rv.agent_id = @viewer))";
