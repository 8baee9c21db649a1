/**
 * Light and dark themes: the system preference by default (CSS prefers-color-scheme), or the reader's
 * choice, kept in localStorage and applied as `data-theme` on <html>.
 */
const KEY = "pigeonhole-viewer-theme";

export type Theme = "light" | "dark";

/** The theme in force now (the stored choice, else the system's). */
export function currentTheme(): Theme {
  const chosen = document.documentElement.dataset.theme;
  if (chosen === "light" || chosen === "dark") return chosen;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

/** Apply the stored choice, if any (at start-up). */
export function applyStoredTheme(): void {
  try {
    const stored = localStorage.getItem(KEY);
    if (stored === "light" || stored === "dark") document.documentElement.dataset.theme = stored;
  } catch {
    // Storage may be disabled; the system theme still applies.
  }
}

/** Switch to the other theme and remember the choice. */
export function toggleTheme(): Theme {
  const next: Theme = currentTheme() === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // Not remembered, still applied.
  }
  return next;
}
