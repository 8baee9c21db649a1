import { type AgentRow, assertActive, resolveAgent } from "../agents.js";
import { fail, isPigeonholeError, type PigeonholeError } from "../errors.js";
import { LIMITS } from "../limits.js";
import type { Mailbox } from "../mailbox.js";
import { type Project, resolveProject } from "../projects.js";

export type RecipientKind = "to" | "cc" | "bcc";

/** A resolved delivery: which agent, as what kind of recipient. */
export interface Delivery {
  agent: AgentRow;
  kind: RecipientKind;
  project: Project;
}

const PRECEDENCE: Record<RecipientKind, number> = { to: 0, cc: 1, bcc: 2 };

/**
 * Resolve `to`/`cc`/`bcc` names to active agents. A plain name is looked up in `project`; `Name@project`
 * in that project (slug or human key). An agent named twice is delivered once, with the most visible
 * kind (to over cc over bcc). Unknown names → NOT_FOUND naming all of them; retired → AGENT_RETIRED.
 */
export function resolveRecipients(
  mb: Mailbox,
  project: Project,
  lists: Record<RecipientKind, readonly string[]>,
): Delivery[] {
  const byAgent = new Map<number, Delivery>();
  const missing: PigeonholeError[] = [];
  const addresses: string[] = [];
  for (const kind of ["to", "cc", "bcc"] as const) {
    for (const raw of lists[kind]) {
      const address = raw.trim();
      if (address === "") continue;
      let delivery: Delivery;
      try {
        delivery = resolveAddress(mb, project, address, kind);
      } catch (error) {
        if (!isPigeonholeError(error) || error.code !== "NOT_FOUND") throw error;
        missing.push(error);
        addresses.push(address);
        continue;
      }
      const seen = byAgent.get(delivery.agent.id);
      if (!seen || PRECEDENCE[kind] < PRECEDENCE[seen.kind]) byAgent.set(delivery.agent.id, delivery);
    }
  }
  if (missing.length === 1) {
    const only = missing[0] as PigeonholeError;
    throw fail.notFound(only.message, { ...only.data, missing: addresses });
  }
  if (missing.length > 1) {
    // Keep the per-name hints that say where an agent really lives (Name@project); drop the rest.
    const hints = missing.filter((e) => e.data.found_in !== undefined).map((e) => e.message);
    throw fail.notFound(
      `Unknown recipients: ${addresses.join(", ")}. ${hints.length ? `${hints.join(" ")} ` : ""}Check the names with list_agents; use Name@project for another project.`,
      { missing: addresses },
    );
  }
  const deliveries = [...byAgent.values()];
  if (deliveries.length > LIMITS.recipients) {
    throw fail.tooLarge(
      `${deliveries.length} recipients; the limit is ${LIMITS.recipients}. Use a topic instead.`,
      {
        limit: LIMITS.recipients,
      },
    );
  }
  for (const d of deliveries) assertActive(d.agent, "recipient");
  return deliveries;
}

function resolveAddress(mb: Mailbox, project: Project, address: string, kind: RecipientKind): Delivery {
  const at = address.indexOf("@");
  if (at === -1) return { agent: resolveAgent(mb, project, address), kind, project };
  let target: Project;
  try {
    target = resolveProject(mb, address.slice(at + 1));
  } catch (error) {
    if (!isPigeonholeError(error)) throw error;
    throw fail.notFound(`Recipient ${address}: ${error.message}`, error.data);
  }
  return { agent: resolveAgent(mb, target, address.slice(0, at)), kind, project: target };
}

/**
 * The same sender and deliveries with their agent rows read again (one query), for checks that must
 * see the state inside the write transaction.
 */
export function refreshDeliveries(
  mb: Mailbox,
  sender: AgentRow,
  deliveries: readonly Delivery[],
): { sender: AgentRow; deliveries: Delivery[] } {
  const ids = [sender.id, ...deliveries.map((d) => d.agent.id)];
  const rows = mb
    .statement<AgentRow>("SELECT * FROM agents WHERE id IN (SELECT value FROM json_each(?))")
    .all(JSON.stringify(ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return {
    sender: byId.get(sender.id) ?? sender,
    deliveries: deliveries.map((d) => ({ ...d, agent: byId.get(d.agent.id) ?? d.agent })),
  };
}
