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
export {
  type ContactEntry,
  type ContactRequestResult,
  ListContactsInput,
  listContacts,
  RequestContactInput,
  RespondContactInput,
  requestContact,
  respondContact,
  SetContactPolicyInput,
  setContactPolicy,
} from "./contacts/links.js";
export { addAutoContactRule, CONTACT_POLICIES, RECENT_CONTACT_WINDOW_SECONDS } from "./contacts/policy.js";
export { ERROR_CODES, type ErrorCode, fail, isPigeonholeError, PigeonholeError } from "./errors.js";
export { type MailboxHealth, mailboxHealth } from "./health.js";
export { checkRegistrationToken, type TokenCheck } from "./identity.js";
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
export type { ActionItem, Mention, Question, ThreadSummary } from "./summaries/digest.js";
export { type LlmConfig, llmConfigFromEnv } from "./summaries/llm.js";
export {
  type MultiThreadSummaryResult,
  type SummarizeOptions,
  SummarizeThreadInput,
  type SummaryAggregate,
  summarizeThread,
  type ThreadExample,
  type ThreadSummaryResult,
} from "./summaries/summarize.js";
export { parseInput } from "./validate.js";
