import { z } from "zod";
import { type AgentRow, assertActive, resolveAgent, touchAgent } from "../agents.js";
import { enqueueArchiveJob } from "../archive/jobs.js";
import { fail, isPigeonholeError } from "../errors.js";
import { LIMITS } from "../limits.js";
import type { Mailbox } from "../mailbox.js";
import { sendMessage } from "../messages/send.js";
import { resolveProject } from "../projects.js";
import { addSeconds, earlierOf } from "../time.js";
import { AgentNameInput, ProjectKey, parseInput } from "../validate.js";
import { type ReservationRow, type ReservationView, reservationById, viewOf } from "./rows.js";

/**
 * A holder counts as abandoned once its `last_active_ts` (refreshed by anything it does: sending,
 * reserving, renewing...) is this many seconds old. Documented in the README.
 */
export const FORCE_RELEASE_INACTIVITY_SECONDS = 30 * 60;

export const ForceReleaseFileReservationInput = z.object({
  project_key: ProjectKey,
  agent_name: AgentNameInput.describe("The agent asking for the release"),
  file_reservation_id: z.number().int().positive(),
  notify_previous: z.boolean().default(true).describe("Send the previous holder a message about it"),
  note: z.string().max(LIMITS.reservationNoteChars).default("").describe("Included in that message"),
});
export type ForceReleaseFileReservationInput = z.input<typeof ForceReleaseFileReservationInput>;

export interface ForceReleaseResult {
  released: true;
  reservation: ReservationView;
  /** Why the holder counted as abandoned. */
  grounds: "expired" | "holder inactive" | "holder retired";
  notified: boolean;
  /** Set when `notify_previous` was asked for but the message could not be sent (the release stands). */
  notify_error?: string;
}

type Grounds = ForceReleaseResult["grounds"];

function groundsFor(mb: Mailbox, row: ReservationRow, holder: AgentRow): Grounds | null {
  const now = mb.now();
  if (row.expires_ts <= now) return "expired";
  if (holder.retired_ts !== null) return "holder retired";
  if (addSeconds(holder.last_active_ts, FORCE_RELEASE_INACTIVITY_SECONDS) <= now) return "holder inactive";
  return null;
}

function loadForRelease(mb: Mailbox, projectId: number, projectSlug: string, id: number): ReservationRow {
  const row = reservationById(mb, id);
  if (!row || row.project_id !== projectId) {
    throw fail.notFound(
      `No file reservation ${id} in project ${projectSlug}; see list_file_reservations for current ones.`,
      { file_reservation_id: id },
    );
  }
  if (row.released_ts !== null) {
    throw fail.conflict(
      `File reservation ${id} (${row.path_pattern}) was already released at ${row.released_ts}.`,
      {
        file_reservation_id: id,
        released_ts: row.released_ts,
      },
    );
  }
  return row;
}

function notificationBody(
  row: ReservationRow,
  forcer: string,
  grounds: Grounds,
  holder: AgentRow,
  note: string,
) {
  const why =
    grounds === "expired"
      ? `it had expired at ${row.expires_ts}`
      : grounds === "holder retired"
        ? `you were retired at ${holder.retired_ts}`
        : `you had been inactive since ${holder.last_active_ts} (more than ${FORCE_RELEASE_INACTIVITY_SECONDS / 60} minutes)`;
  const lines = [
    `${forcer} force-released your file reservation #${row.id} on \`${row.path_pattern}\` (${row.exclusive ? "exclusive" : "shared"}${row.reason ? `, reason: ${row.reason}` : ""}) because ${why}.`,
    "",
    "If you are still working on these files, reserve them again with file_reservation_paths and tell the other agents.",
  ];
  if (note.trim() !== "") lines.push("", `Note from ${forcer}:`, "", note);
  return lines.join("\n");
}

/**
 * Release another agent's reservation, only when its holder looks abandoned: the reservation already
 * expired, the holder is retired, or the holder's last activity is older than
 * FORCE_RELEASE_INACTIVITY_SECONDS. Otherwise CONFLICT saying when it becomes force-releasable. The
 * check and the release happen in one transaction. With `notify_previous`, the holder then gets a message
 * from the forcing agent (subject "File reservation released: <pattern>", the note in the body); a failure
 * to send is reported in `notify_error` and does not undo the release.
 */
export async function forceReleaseFileReservation(
  mb: Mailbox,
  input: ForceReleaseFileReservationInput,
): Promise<ForceReleaseResult> {
  const args = parseInput(ForceReleaseFileReservationInput, input);
  const project = resolveProject(mb, args.project_key);
  const { row, holder, grounds, forcer } = mb.write(() => {
    const forcer = resolveAgent(mb, project, args.agent_name);
    assertActive(forcer, "sender of a force release");
    const row = loadForRelease(mb, project.id, project.slug, args.file_reservation_id);
    if (row.agent_id === forcer.id) {
      throw fail.invalid(
        `File reservation ${row.id} is your own; release it with release_file_reservations instead.`,
        { file_reservation_id: row.id },
      );
    }
    const holder = mb.statement<AgentRow>("SELECT * FROM agents WHERE id = ?").get(row.agent_id) as AgentRow;
    const grounds = groundsFor(mb, row, holder);
    if (grounds === null) {
      const releasable = addSeconds(holder.last_active_ts, FORCE_RELEASE_INACTIVITY_SECONDS);
      const when = earlierOf(releasable, row.expires_ts);
      throw fail.conflict(
        `${holder.name} was active at ${holder.last_active_ts} and holds ${row.path_pattern} until ${row.expires_ts}; it can be force-released from ${when} (${FORCE_RELEASE_INACTIVITY_SECONDS / 60} minutes of inactivity, or expiry) if ${holder.name} stays inactive. Ask ${holder.name} to release it with send_message meanwhile.`,
        {
          file_reservation_id: row.id,
          holder: holder.name,
          last_active_ts: holder.last_active_ts,
          releasable_from: when,
        },
      );
    }
    const now = mb.now();
    mb.statement("UPDATE file_reservations SET released_ts = ? WHERE id = ?").run(now, row.id);
    enqueueArchiveJob(mb, "reservation", row.id);
    touchAgent(mb, forcer.id);
    return { row: { ...row, released_ts: now }, holder, grounds, forcer };
  });
  const result: ForceReleaseResult = {
    released: true,
    reservation: viewOf(row, mb.now()),
    grounds,
    notified: false,
  };
  if (!args.notify_previous) return result;
  try {
    await sendMessage(mb, {
      project_key: project.slug,
      sender_name: forcer.name,
      to: [holder.name],
      subject: `File reservation released: ${row.path_pattern}`,
      body_md: notificationBody(row, forcer.name, grounds, holder, args.note),
      importance: "high",
    });
    result.notified = true;
  } catch (error) {
    if (!isPigeonholeError(error)) throw error;
    result.notify_error = error.message;
  }
  return result;
}
