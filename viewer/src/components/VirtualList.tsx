import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { registerKeyboardList } from "../lib/keyboard.js";

const PAGE = 100;
const OVERSCAN = 8;

interface Props<T> {
  /** Rows in the list. */
  count: number;
  /** Fixed height of a row in pixels (rows are laid out absolutely, so only visible ones exist). */
  rowHeight: number;
  /** Load rows [start, end) — called once per page of 100 rows, only for pages that come into view. */
  load(start: number, end: number): T[];
  /** Changing this drops loaded pages (a new list). */
  listKey: string;
  row(item: T, selected: boolean): ComponentChildren;
  /** Open a row (Enter on the selection). */
  open(item: T): void;
  label: string;
  empty?: ComponentChildren;
}

/**
 * A windowed list: however long the list, only the rows in view (plus a few) are in the DOM, and rows
 * are loaded a page at a time, so 100,000 messages cost a few page loads, never a query per row.
 * Registers itself for j/k/Enter.
 */
export function VirtualList<T>(props: Props<T>) {
  const { count, rowHeight } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const pages = useMemo(() => new Map<number, T[]>(), [props.listKey]);
  const [view, setView] = useState({ top: 0, height: 600 });
  const [selected, setSelected] = useState(-1);
  const selectedRef = useRef(selected);
  selectedRef.current = selected;

  // A new list starts at the top with nothing selected.
  useEffect(() => {
    setSelected(-1);
    if (scroller.current) scroller.current.scrollTop = 0;
  }, [props.listKey]);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = () => setView({ top: el.scrollTop, height: el.clientHeight });
    update();
    const observer = new ResizeObserver(update);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const item = (index: number): T | undefined => {
    const page = Math.floor(index / PAGE);
    let rows = pages.get(page);
    if (!rows) {
      rows = props.load(page * PAGE, Math.min(count, (page + 1) * PAGE));
      pages.set(page, rows);
    }
    return rows[index - page * PAGE];
  };

  const propsRef = useRef(props);
  propsRef.current = props;
  useEffect(
    () =>
      registerKeyboardList({
        move(delta) {
          const { count: n, rowHeight: h } = propsRef.current;
          if (n === 0) return;
          const next = Math.max(0, Math.min(n - 1, selectedRef.current + delta));
          setSelected(next);
          const el = scroller.current;
          if (!el) return;
          if (next * h < el.scrollTop) el.scrollTop = next * h;
          else if ((next + 1) * h > el.scrollTop + el.clientHeight)
            el.scrollTop = (next + 1) * h - el.clientHeight;
        },
        open() {
          const chosen = selectedRef.current >= 0 ? item(selectedRef.current) : undefined;
          if (chosen !== undefined) propsRef.current.open(chosen);
        },
      }),
    [props.listKey],
  );

  const first = Math.max(0, Math.floor(view.top / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((view.top + view.height) / rowHeight) + OVERSCAN);
  const rows: ComponentChildren[] = [];
  for (let i = first; i < last; i++) {
    const it = item(i);
    if (it === undefined) continue;
    rows.push(
      <li key={i} class="vrow" style={{ top: `${i * rowHeight}px`, height: `${rowHeight}px` }}>
        {props.row(it, i === selected)}
      </li>,
    );
  }
  return (
    <div
      class="vlist"
      ref={scroller}
      style={{ height: `min(var(--list-height), ${Math.max(count, 2) * rowHeight + 2}px)` }}
      onScroll={(e) => setView({ top: e.currentTarget.scrollTop, height: e.currentTarget.clientHeight })}
    >
      {count === 0 ? (
        <p class="empty">{props.empty ?? "Nothing here."}</p>
      ) : (
        <ul class="vspace" aria-label={props.label} style={{ height: `${count * rowHeight}px` }}>
          {rows}
        </ul>
      )}
    </div>
  );
}
