/**
 * Keyboard navigation: j/k move the selection in the list on screen, Enter opens it, `/` focuses the
 * search box, Esc leaves the search box (or goes back). The view on screen registers its list here; the
 * App owns the one keydown listener.
 */
export interface KeyboardList {
  /** Move the selection by `delta` rows (clamped). */
  move(delta: number): void;
  /** Open the selected row. */
  open(): void;
}

let active: KeyboardList | null = null;

/** Make `list` the target of j/k/Enter; returns a function that unregisters it (if still active). */
export function registerKeyboardList(list: KeyboardList): () => void {
  active = list;
  return () => {
    if (active === list) active = null;
  };
}

function typingIn(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
}

/**
 * Handle one keydown for the page. `search` is the search box; `back` goes back (Esc outside an input).
 * Returns true when the key was used.
 */
export function handleKey(event: KeyboardEvent, search: HTMLInputElement | null, back: () => void): boolean {
  if (event.ctrlKey || event.metaKey || event.altKey) return false;
  if (event.key === "Escape") {
    if (typingIn(event.target)) {
      (event.target as HTMLElement).blur();
      return true;
    }
    back();
    return true;
  }
  if (typingIn(event.target)) return false;
  if (event.key === "/") {
    search?.focus();
    search?.select();
    return true;
  }
  if (!active) return false;
  if (event.key === "j") active.move(1);
  else if (event.key === "k") active.move(-1);
  else if (
    event.key === "Enter" &&
    !["A", "BUTTON"].includes((event.target as HTMLElement | null)?.tagName ?? "")
  ) {
    active.open();
  } else return false;
  return true;
}
