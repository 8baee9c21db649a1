import { useMemo } from "preact/hooks";
import type { OpenBundle } from "../../lib/loader.js";
import { message } from "../../lib/queries/messages.js";
import { MessageCard } from "../MessageCard.js";
import { NotFound } from "./ProjectView.js";

/** `#/message/<id>`: one message in full. */
export function MessageView({ bundle, id }: { bundle: OpenBundle; id: number }) {
  const m = useMemo(() => message(bundle.db, id), [bundle.db, id]);
  if (!m) return <NotFound what={`message ${id}`} />;
  return (
    <section class="view message-view">
      <MessageCard message={m} bundle={bundle} />
    </section>
  );
}
