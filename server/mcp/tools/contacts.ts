import {
  ListContactsInput,
  listContacts,
  RequestContactInput,
  RespondContactInput,
  requestContact,
  respondContact,
  SetContactPolicyInput,
  setContactPolicy,
} from "../../../engine/index.js";
import { defineTool } from "../tool-spec.js";

/** Contacts (TOOLS.md): who may write to whom. */
export const CONTACT_TOOLS = [
  defineTool({
    name: "request_contact",
    title: "Request contact",
    description:
      "Ask another agent (to_project for another project) for contact; sends an ack-required intro.",
    input: RequestContactInput,
    access: "write",
    core: false,
    actor: "from_agent",
    run: ({ mailbox }, args) => requestContact(mailbox, args),
  }),
  defineTool({
    name: "respond_contact",
    title: "Respond to contact request",
    description: "Accept (for ttl_seconds) or decline a contact request.",
    input: RespondContactInput,
    access: "write",
    core: false,
    actor: "to_agent",
    run: ({ mailbox }, args) => respondContact(mailbox, args),
  }),
  defineTool({
    name: "list_contacts",
    title: "List contacts",
    description: "An agent's contact links, outgoing and incoming, with status and expiry.",
    input: ListContactsInput,
    access: "read",
    core: false,
    actor: "agent_name",
    run: ({ mailbox }, args) => listContacts(mailbox, args),
  }),
  defineTool({
    name: "set_contact_policy",
    title: "Set contact policy",
    description: "Who may write to the agent: open, auto (default), contacts_only or block_all.",
    input: SetContactPolicyInput,
    access: "write",
    core: false,
    actor: "agent_name",
    run: ({ mailbox }, args) => setContactPolicy(mailbox, args),
  }),
];
