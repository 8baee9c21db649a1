/**
 * The public surface of the Pigeonhole engine. Named exports only: anything not listed here is internal
 * and may change. Every operation takes an open `Mailbox` first and an input object whose field names are
 * the MCP tool parameter names of TOOLS.md; failures are `PigeonholeError`s with stable codes.
 */

export {
  type AgentListing,
  type AgentProfile,
  AgentRefInput,
  CreateAgentIdentityInput,
  createAgentIdentity,
  getAgentProfile,
  ListAgentsInput,
  listAgents,
  RegisterAgentInput,
  type RegisteredAgent,
  registerAgent,
  retireAgent,
  unretireAgent,
} from "./agents.js";
export { ERROR_CODES, type ErrorCode, fail, isPigeonholeError, PigeonholeError } from "./errors.js";
export { AGENT_NAME_PATTERN, LIMITS, TOPIC_PATTERN } from "./limits.js";
export { type ArchiveSink, Mailbox, type MailboxOptions, type MailboxPaths, resolveHome } from "./mailbox.js";
export type { AttachmentView } from "./messages/attachments.js";
export {
  FetchInboxInput,
  fetchInbox,
  type InboxCounts,
  type InboxItem,
  PeekInboxInput,
  peekInbox,
} from "./messages/inbox.js";
export { FetchOutboxInput, fetchOutbox, type OutboxItem, type Receipt } from "./messages/outbox.js";
export { acknowledgeMessage, markMessageRead, ReceiptInput } from "./messages/receipts.js";
export { prefixSubject, ReplyMessageInput, type ReplyMessageResult, replyMessage } from "./messages/reply.js";
export {
  type DeliveryResult,
  SendMessageInput,
  type SendMessageResult,
  sendMessage,
} from "./messages/send.js";
export type { MessageView } from "./messages/shape.js";
export {
  FetchTopicInput,
  fetchTopic,
  GetMessageInput,
  GetThreadInput,
  getMessage,
  getThread,
} from "./messages/threads.js";
export { generateAgentName, NAME_COMBINATIONS } from "./names.js";
export { openMailbox } from "./open.js";
export {
  EnsureProjectInput,
  ensureProject,
  listProjects,
  normalizeHumanKey,
  type Project,
  resolveProject,
  slugify,
} from "./projects.js";
export { MIGRATIONS, SCHEMA_VERSION } from "./schema.js";
export { type SearchHit, SearchMessagesInput, searchMessages } from "./search.js";
export { SEARCH_SYNTAX_HELP, toFtsQuery } from "./search-query.js";
export { parseInput } from "./validate.js";
