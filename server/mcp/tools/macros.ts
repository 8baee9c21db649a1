import {
  MacroContactHandshakeInput,
  MacroFileReservationCycleInput,
  MacroPrepareThreadInput,
  MacroStartSessionInput,
  type MacroStartSessionResult,
  macroContactHandshake,
  macroFileReservationCycle,
  macroPrepareThread,
  macroStartSession,
  parseInput,
} from "../../../engine/index.js";
import { verifyActor } from "../dispatch.js";
import { defineTool } from "../tool-spec.js";

const claimed = (args: Record<string, unknown>) =>
  typeof args.agent_name === "string" ? args.agent_name : undefined;
const agentOf = (result: unknown) => (result as Pick<MacroStartSessionResult, "agent">).agent.name;

/** Macros (TOOLS.md): one call for a common sequence. */
export const MACRO_TOOLS = [
  defineTool({
    name: "macro_start_session",
    title: "Start session",
    description:
      "One call to begin work: ensure the project, register (or resume) the agent, reserve files, fetch the inbox.",
    input: MacroStartSessionInput,
    access: "write",
    core: true,
    claimsName: claimed,
    binds: agentOf,
    run: ({ mailbox }, args) => macroStartSession(mailbox, args),
  }),
  defineTool({
    name: "macro_prepare_thread",
    title: "Prepare thread",
    description: "Register (or resume) the agent, summarize a thread as it sees it, and fetch its inbox.",
    input: MacroPrepareThreadInput,
    access: "write",
    core: false,
    claimsName: claimed,
    binds: agentOf,
    run: ({ mailbox }, args) => macroPrepareThread(mailbox, args),
  }),
  defineTool({
    name: "macro_file_reservation_cycle",
    title: "Reservation cycle",
    description: "Reserve paths and optionally release them again (auto_release).",
    input: MacroFileReservationCycleInput,
    access: "write",
    core: false,
    actor: "agent_name",
    run: ({ mailbox }, args) => macroFileReservationCycle(mailbox, args),
  }),
  defineTool({
    name: "macro_contact_handshake",
    title: "Contact handshake",
    description:
      "Request contact, optionally accept it as the target (auto_accept needs the target bound to this session or its token as target_token), and send a welcome message.",
    input: MacroContactHandshakeInput,
    access: "write",
    core: false,
    actor: "requester",
    run: (ctx, args) => {
      // Parsed before the identity check, which reads `target`: the raw arguments may lack it or hold
      // another type. The extra `target_token` is not in the schema, so it is read from the raw ones.
      const parsed = parseInput(MacroContactHandshakeInput, args);
      const targetToken = (args as { target_token?: unknown }).target_token;
      // Accepting speaks for the target, so the session must be entitled to act as it too.
      if (parsed.auto_accept) {
        verifyActor(
          ctx,
          parsed.target.split("@")[0] as string,
          typeof targetToken === "string" ? targetToken : undefined,
        );
      }
      return macroContactHandshake(ctx.mailbox, parsed);
    },
  }),
];
