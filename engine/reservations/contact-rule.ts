import type { AgentRow } from "../agents.js";
import type { Mailbox } from "../mailbox.js";
import { patternsOverlap } from "./glob-overlap.js";
import { activeReservationsOf } from "./rows.js";

/**
 * True when `a` and `b` hold active reservations (exclusive or shared, in any project) whose patterns
 * overlap: agents working on the same files may write to each other under the `auto` contact policy.
 */
export function holdOverlappingReservations(mb: Mailbox, a: AgentRow, b: AgentRow): boolean {
  const mine = activeReservationsOf(mb, a.id);
  if (mine.length === 0) return false;
  const theirs = activeReservationsOf(mb, b.id);
  return mine.some((x) => theirs.some((y) => patternsOverlap(x.path_pattern, y.path_pattern)));
}
