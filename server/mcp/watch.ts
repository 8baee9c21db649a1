import { lastMessageId, type Mailbox, mailChangesSince } from "../../engine/index.js";
import type { Logger } from "../log.js";

/** Told which agents (lower-cased names) got or sent new mail. */
export type MailListener = (agents: ReadonlySet<string>) => void;

/**
 * Watches the mailbox for new messages, whichever process wrote them, by polling a cursor (one indexed
 * lookup per tick) while anyone listens. This is what makes inbox subscriptions work across the many
 * stdio processes that share one mailbox with no daemon.
 */
export class MailWatcher {
  private readonly listeners = new Set<MailListener>();
  private timer: NodeJS.Timeout | undefined;
  private cursor = 0;
  private failing = false;

  constructor(
    private readonly mailbox: Mailbox,
    private readonly log: Logger,
    private readonly intervalMs = 200,
  ) {}

  /** Start telling `listener` about new mail; returns the function that stops it. */
  listen(listener: MailListener): () => void {
    if (this.listeners.size === 0) {
      this.cursor = lastMessageId(this.mailbox);
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** Listeners registered now: one per session with a subscription (sessions must release theirs). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Check now (also called by the tick). */
  tick(): void {
    if (!this.mailbox.db.open) {
      this.stop();
      return;
    }
    try {
      const changes = mailChangesSince(this.mailbox, this.cursor);
      this.failing = false;
      if (changes.last_id === this.cursor) return;
      this.cursor = changes.last_id;
      const agents = new Set(changes.agents.map((a) => a.toLowerCase()));
      for (const listener of this.listeners) listener(agents);
    } catch (error) {
      if (!this.failing)
        this.log.warn(`mail watcher: ${error instanceof Error ? error.message : String(error)}`);
      this.failing = true;
    }
  }

  /** Stop polling (when the last listener leaves, or at shutdown). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
