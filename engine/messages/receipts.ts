import { z } from "zod";
import { resolveAgent, touchAgent } from "../agents.js";
import { enqueueArchiveJob } from "../archive/jobs.js";
import { fail } from "../errors.js";
import type { Mailbox } from "../mailbox.js";
import { resolveProject } from "../projects.js";
import { AgentNameInput, MessageId, ProjectKey, parseInput } from "../validate.js";

export const ReceiptInput = z.object({
  project_key: ProjectKey,
  agent_name: AgentNameInput,
  message_id: MessageId,
});
export type ReceiptInput = z.input<typeof ReceiptInput>;

interface ReceiptRow {
  read_ts: string | null;
  ack_ts: string | null;
}

/**
 * Set the agent's receipt on a message it received, in one transaction: `read_ts` (and for an
 * acknowledgement also `ack_ts`) is set once and never moves afterwards, so both calls are idempotent.
 */
function setReceipt(
  mb: Mailbox,
  input: ReceiptInput,
  acknowledge: boolean,
): ReceiptRow & { message_id: number } {
  const args = parseInput(ReceiptInput, input);
  const project = resolveProject(mb, args.project_key);
  const agent = resolveAgent(mb, project, args.agent_name);
  return mb.write(() => {
    const receipt = mb
      .statement<ReceiptRow>(
        "SELECT read_ts, ack_ts FROM message_recipients WHERE message_id = ? AND agent_id = ?",
      )
      .get(args.message_id, agent.id);
    if (!receipt) {
      throw fail.notFound(
        `Message ${args.message_id} is not in ${agent.name}'s inbox; only a recipient can mark it.`,
        {
          message_id: args.message_id,
        },
      );
    }
    const now = mb.now();
    const read_ts = receipt.read_ts ?? now;
    const ack_ts = acknowledge ? (receipt.ack_ts ?? now) : receipt.ack_ts;
    if (read_ts !== receipt.read_ts || ack_ts !== receipt.ack_ts) {
      mb.statement(
        "UPDATE message_recipients SET read_ts = ?, ack_ts = ? WHERE message_id = ? AND agent_id = ?",
      ).run(read_ts, ack_ts, args.message_id, agent.id);
      enqueueArchiveJob(mb, "read_state", args.message_id);
    }
    touchAgent(mb, agent.id);
    return { message_id: args.message_id, read_ts, ack_ts };
  });
}

/** Mark a received message read. Idempotent: the first read time is kept. */
export function markMessageRead(
  mb: Mailbox,
  input: ReceiptInput,
): { message_id: number; read: true; read_at: string } {
  const r = setReceipt(mb, input, false);
  return { message_id: r.message_id, read: true, read_at: r.read_ts as string };
}

/** Acknowledge a received message (which also marks it read). Idempotent: timestamps never move. */
export function acknowledgeMessage(
  mb: Mailbox,
  input: ReceiptInput,
): { message_id: number; acknowledged: true; acknowledged_at: string; read_at: string } {
  const r = setReceipt(mb, input, true);
  return {
    message_id: r.message_id,
    acknowledged: true,
    acknowledged_at: r.ack_ts as string,
    read_at: r.read_ts as string,
  };
}
