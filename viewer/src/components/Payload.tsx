/** A message's JSON payload, pretty-printed as text (never parsed as HTML). */
export function Payload({ payload }: { payload: string | null }) {
  if (payload === null || payload === "") return null;
  let text = payload;
  try {
    text = JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    // Not JSON after all: show it as stored.
  }
  return (
    <details class="payload" open>
      <summary>Payload</summary>
      <pre>{text}</pre>
    </details>
  );
}
