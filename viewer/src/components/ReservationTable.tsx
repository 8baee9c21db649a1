import { shortTime, span } from "../lib/format.js";
import { type Reservation, reservationState } from "../lib/queries/reservations.js";
import { href } from "../lib/router.js";

/** File reservations with their time spans, as they stood when the snapshot was taken (`at`). */
export function ReservationTable({ reservations, at }: { reservations: Reservation[]; at: string }) {
  if (reservations.length === 0) return <p class="empty">No file reservations.</p>;
  return (
    <div class="table-wrap">
      <table class="reservations">
        <thead>
          <tr>
            <th>Pattern</th>
            <th>Agent</th>
            <th>Kind</th>
            <th>Span</th>
            <th>State</th>
            <th>Reason</th>
          </tr>
        </thead>
        <tbody>
          {reservations.map((r) => {
            const state = reservationState(r, at);
            const end = r.released_ts ?? r.expires_ts;
            return (
              <tr key={r.id} class={`res-${state}`}>
                <td>
                  <code>{r.path_pattern}</code>
                </td>
                <td>
                  <a href={href({ view: "agent", name: r.agent, box: "inbox" })}>{r.agent}</a>
                </td>
                <td>{r.exclusive ? "exclusive" : "shared"}</td>
                <td>
                  <time dateTime={r.created_ts}>{shortTime(r.created_ts)}</time>
                  {" → "}
                  <time dateTime={end}>{shortTime(end)}</time>
                  <span class="muted">{` (${span(r.created_ts, end)}${r.released_ts ? `, due ${shortTime(r.expires_ts)}` : ""})`}</span>
                </td>
                <td>
                  <span class={`badge res-${state}`}>{state}</span>
                </td>
                <td class="reason">{r.reason}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
