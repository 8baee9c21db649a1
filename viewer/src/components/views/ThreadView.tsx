import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { registerKeyboardList } from "../../lib/keyboard.js";
import type { OpenBundle } from "../../lib/loader.js";
import { thread } from "../../lib/queries/messages.js";
import { href, navigate } from "../../lib/router.js";
import { MessageCard } from "../MessageCard.js";
import { NotFound } from "./ProjectView.js";

/** `#/thread/<id>`: every message of a thread, oldest first; j/k move between them. */
export function ThreadView({ bundle, id }: { bundle: OpenBundle; id: string }) {
  const messages = useMemo(() => thread(bundle.db, id), [bundle.db, id]);
  const [selected, setSelected] = useState(-1);
  const root = useRef<HTMLElement>(null);
  const state = useRef({ selected, messages });
  state.current = { selected, messages };

  useEffect(() => {
    setSelected(-1);
    return registerKeyboardList({
      move(delta) {
        const { selected: at, messages: list } = state.current;
        if (list.length === 0) return;
        const next = Math.max(0, Math.min(list.length - 1, at + delta));
        setSelected(next);
        root.current?.querySelectorAll("article.message")[next]?.scrollIntoView({ block: "nearest" });
      },
      open() {
        const { selected: at, messages: list } = state.current;
        const m = list[at];
        if (m) navigate({ view: "message", id: m.id });
      },
    });
  }, [id]);

  if (messages.length === 0) return <NotFound what={`thread ${id}`} />;
  const first = messages[0];
  return (
    <section class="view thread" ref={root}>
      <h1>{first?.subject || "(no subject)"}</h1>
      <p class="muted">
        {`${messages.length} ${messages.length === 1 ? "message" : "messages"} in `}
        <a href={href({ view: "project", slug: first?.project ?? "" })}>{first?.project}</a>
      </p>
      <div class="thread-messages">
        {messages.map((m, i) => (
          <MessageCard key={m.id} message={m} bundle={bundle} inThread selected={i === selected} />
        ))}
      </div>
    </section>
  );
}
