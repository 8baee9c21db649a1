import { useEffect, useRef, useState } from "preact/hooks";
import { handleKey } from "../lib/keyboard.js";
import { goBack, href, navigate, type Route, replaceRoute } from "../lib/router.js";
import { currentTheme, toggleTheme } from "../lib/theme.js";

/** The top bar: home link, the search box (live on the search page, `/` to focus), the theme switch; owns the keyboard. */
export function Header({ route, ready }: { route: Route; ready: boolean }) {
  const search = useRef<HTMLInputElement>(null);
  const [text, setText] = useState(route.view === "search" ? route.q : "");
  const [theme, setTheme] = useState(currentTheme);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const routeRef = useRef(route);
  routeRef.current = route;

  useEffect(() => {
    if (route.view === "search") setText(route.q);
  }, [route]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (handleKey(e, search.current, () => goBack(routeRef.current))) e.preventDefault();
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);

  const filters = route.view === "search" ? route.filters : {};
  return (
    <header class="top">
      <a class="brand" href={href({ view: "overview" })}>
        Pigeonhole
      </a>
      <form
        class="searchbox"
        onSubmit={(e) => {
          e.preventDefault();
          clearTimeout(timer.current);
          navigate({ view: "search", q: text, filters });
        }}
      >
        <input
          ref={search}
          id="search"
          type="search"
          placeholder="Search messages  ( / )"
          aria-label="Search messages"
          value={text}
          disabled={!ready}
          onInput={(e) => {
            const value = e.currentTarget.value;
            setText(value);
            if (route.view !== "search") return;
            clearTimeout(timer.current);
            timer.current = setTimeout(() => replaceRoute({ view: "search", q: value, filters }), 250);
          }}
        />
      </form>
      <button
        type="button"
        class="theme"
        aria-label={`Switch to the ${theme === "dark" ? "light" : "dark"} theme`}
        onClick={() => setTheme(toggleTheme())}
      >
        {theme === "dark" ? "☀" : "☾"}
      </button>
    </header>
  );
}
