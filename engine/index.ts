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
export { type ArchiveCheck, checkArchive, rebuildArchive } from "./archive/doctor.js";
export {
  agentProfilePath,
  messagePath,
  parseMessageFile,
  projectPath,
  reservationPath,
} from "./archive/layout.js";
export { type ArchiveCommit, recentCommits } from "./archive/repo.js";
export {
  type ArchiveWriter,
  type ArchiveWriterOptions,
  type DrainedBatch,
  startArchiveWriter,
} from "./archive/writer.js";
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
export { CONTACT_POLICIES, CONTACT_WINDOW_SECONDS } from "./contacts/policy.js";
export { ERROR_CODES, type ErrorCode, fail, isPigeonholeError, PigeonholeError } from "./errors.js";
export {
  CHAINED_HOOK_NAME,
  GUARD_MARKER,
  guardHookEntry,
  InstallPrecommitGuardInput,
  type InstallPrecommitGuardResult,
  installPrecommitGuard,
  UninstallPrecommitGuardInput,
  type UninstallPrecommitGuardResult,
  uninstallPrecommitGuard,
} from "./guard.js";
export {
  findGuardBlocks,
  type GuardBlock,
  type GuardOutcome,
  listStagedPaths,
  runPrecommitGuard,
} from "./guard-check.js";
export { type MailboxHealth, mailboxHealth } from "./health.js";
export { checkRegistrationToken, projectOfAgent, type TokenCheck } from "./identity.js";
export { AGENT_NAME_PATTERN, LIMITS, TOPIC_PATTERN } from "./limits.js";
export {
  MacroContactHandshakeInput,
  MacroFileReservationCycleInput,
  MacroPrepareThreadInput,
  type MacroPrepareThreadResult,
  MacroStartSessionInput,
  type MacroStartSessionResult,
  macroContactHandshake,
  macroFileReservationCycle,
  macroPrepareThread,
  macroStartSession,
} from "./macros.js";
export { type ArchiveSink, Mailbox, type MailboxOptions, type MailboxPaths, resolveHome } from "./mailbox.js";
export type { AttachmentView } from "./messages/attachments.js";
export { lastMessageId, type MailChanges, mailChangesSince } from "./messages/changes.js";
export {
  FetchInboxInput,
  fetchInbox,
  type InboxCounts,
  type InboxItem,
  PeekInboxInput,
  peekInbox,
} from "./messages/inbox.js";
export { peekInboxCached } from "./messages/inbox-cache.js";
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
export { holdOverlappingReservations } from "./reservations/contact-rule.js";
export {
  FORCE_RELEASE_INACTIVITY_SECONDS,
  ForceReleaseFileReservationInput,
  type ForceReleaseResult,
  forceReleaseFileReservation,
} from "./reservations/force-release.js";
export { isGlobPattern, pathMatchesPattern, patternsOverlap } from "./reservations/glob-overlap.js";
export {
  ListFileReservationsInput,
  type ListFileReservationsResult,
  listFileReservations,
} from "./reservations/list.js";
export { normalizeReservationPattern } from "./reservations/paths.js";
export {
  ReleaseFileReservationsInput,
  type ReleaseFileReservationsResult,
  type RenewedReservation,
  RenewFileReservationsInput,
  type RenewFileReservationsResult,
  releaseFileReservations,
  renewFileReservations,
} from "./reservations/renew-release.js";
export {
  FileReservationPathsInput,
  type FileReservationPathsResult,
  fileReservationPaths,
  type GrantedReservation,
  MIN_RESERVATION_TTL_SECONDS,
  type ReservationConflict,
  type ReservationHolder,
} from "./reservations/reserve.js";
export type { ReservationView, SkippedReservation } from "./reservations/rows.js";
export { MIGRATIONS, SCHEMA_VERSION } from "./schema.js";
export { type SearchHit, SearchMessagesInput, searchMessages } from "./search.js";
export { SEARCH_SYNTAX_HELP, toFtsQuery } from "./search-query.js";
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
export { WhoisInput, type WhoisResult, whois } from "./whois.js";
