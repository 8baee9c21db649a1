import type { MessageRow } from "../lib/queries/messages.js";

/** Importance badge; nothing for `normal`. */
export function Importance({ level }: { level: MessageRow["importance"] }) {
  if (level === "normal") return null;
  return <span class={`badge imp-${level}`}>{level}</span>;
}

/**
 * Acknowledgement state. For one recipient (`ackTs` given or null): acknowledged or pending; for the
 * sender's view: how many of the recipients acknowledged.
 */
export function Ack(props: { required: number; ackTs?: string | null; acked?: number; of?: number }) {
  if (!props.required) return null;
  if (props.ackTs !== undefined) {
    return props.ackTs ? (
      <span class="badge ack-done" title={`acknowledged ${props.ackTs}`}>
        acked
      </span>
    ) : (
      <span class="badge ack-pending">ack pending</span>
    );
  }
  const done = props.acked ?? 0;
  const of = props.of ?? 0;
  return (
    <span class={`badge ${done === of && of > 0 ? "ack-done" : "ack-pending"}`}>{`acked ${done}/${of}`}</span>
  );
}
