import {
  ensureProject,
  fileReservationPaths,
  registerAgent,
  replyMessage,
  sendMessage,
} from "../../engine/index.js";
import type { Sandbox } from "./harness.js";

/**
 * The mail that random arguments can hit: a project (whose human key is the sandbox project directory),
 * three agents and one in another project, a few messages, a thread and a reservation. Random arguments
 * draw names, ids and keys from here often enough to get past validation into the engine.
 */
export interface World {
  slug: string;
  humanKey: string;
  otherSlug: string;
  agents: string[];
  /** An agent of the other project. */
  outsider: string;
  tokens: string[];
  messageIds: number[];
  threadIds: string[];
  reservationIds: number[];
  projectDir: string;
  repoDir: string;
  sandboxDir: string;
}

export async function buildWorld(sandbox: Sandbox): Promise<World> {
  const mb = sandbox.mailbox;
  const project = ensureProject(mb, { human_key: sandbox.projectDir });
  const other = ensureProject(mb, { human_key: "/work/prop-other" });
  const tokens: string[] = [];
  for (const name of ["Alice", "Bob", "Carol"]) {
    tokens.push(
      registerAgent(mb, { project_key: project.slug, program: "p", model: "m", name }).registration_token,
    );
  }
  tokens.push(
    registerAgent(mb, { project_key: other.slug, program: "p", model: "m", name: "Dave" }).registration_token,
  );
  const first = await sendMessage(mb, {
    project_key: project.slug,
    sender_name: "Alice",
    to: ["Bob"],
    cc: ["Carol"],
    subject: "Plan for the parser",
    body_md: "TODO: review the parser. @Bob can you check?",
    ack_required: true,
    topic: "build",
  });
  const firstId = first.deliveries[0]!.payload.id;
  const reply = await replyMessage(mb, {
    project_key: project.slug,
    message_id: firstId,
    sender_name: "Bob",
    body_md: "- [x] done\n- [ ] ACTION: tests",
  });
  const secret = await sendMessage(mb, {
    project_key: project.slug,
    sender_name: "Carol",
    to: ["Alice"],
    bcc: ["Bob"],
    subject: "urgent: lease",
    body_md: "Blind copy to Bob.",
    importance: "urgent",
  });
  const reservation = fileReservationPaths(mb, {
    project_key: project.slug,
    agent_name: "Carol",
    paths: ["src/**"],
    reason: "refactor",
  });
  return {
    slug: project.slug,
    humanKey: sandbox.projectDir,
    otherSlug: other.slug,
    agents: ["Alice", "Bob", "Carol"],
    outsider: "Dave",
    tokens,
    messageIds: [firstId, reply.id, secret.deliveries[0]!.payload.id],
    threadIds: [reply.thread_id, String(secret.deliveries[0]!.payload.id)],
    reservationIds: reservation.granted.map((g) => g.id),
    projectDir: sandbox.projectDir,
    repoDir: sandbox.repoDir,
    sandboxDir: sandbox.dir,
  };
}
