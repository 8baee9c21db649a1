/**
 * Hash routes, so deep links work from any static host and any sub-path:
 *
 *   #/                      overview
 *   #/project/<slug>        a project
 *   #/agent/<name>[?box=outbox]   an agent's inbox (or outbox)
 *   #/thread/<id>           a thread in order
 *   #/message/<id>          one message
 *   #/search?q=…&project=…&sender=…&recipient=…&importance=…&from=YYYY-MM-DD&to=YYYY-MM-DD
 *
 * A signing key may be pinned with `key=<base64>` among the parameters (`#key=…` alone means the
 * overview). Once pinned, every link the viewer makes keeps it, so a reload still checks the pin.
 */

export interface SearchFilters {
  project?: string;
  sender?: string;
  recipient?: string;
  importance?: string;
  from?: string;
  to?: string;
}

export type Route =
  | { view: "overview" }
  | { view: "project"; slug: string }
  | { view: "agent"; name: string; box: "inbox" | "outbox" }
  | { view: "thread"; id: string }
  | { view: "message"; id: number }
  | { view: "search"; q: string; filters: SearchFilters }
  | { view: "missing"; path: string };

export interface HashLocation {
  route: Route;
  /** The base64 key pinned in the link, if any (undecoded). */
  key: string | null;
}

const FILTERS: (keyof SearchFilters)[] = ["project", "sender", "recipient", "importance", "from", "to"];

function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const name = eq === -1 ? pair : pair.slice(0, eq);
    const value = eq === -1 ? "" : pair.slice(eq + 1);
    try {
      params.set(decodeURIComponent(name), decodeURIComponent(value));
    } catch {
      params.set(name, value);
    }
  }
  return params;
}

function segment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Parse a location hash (with or without its leading `#`). Unknown paths give the `missing` route. */
export function parseHash(hash: string): HashLocation {
  const fragment = hash.replace(/^#/, "");
  const question = fragment.indexOf("?");
  let path = question === -1 ? fragment : fragment.slice(0, question);
  let query = question === -1 ? "" : fragment.slice(question + 1);
  if (!path.startsWith("/") && path.includes("=")) {
    query = path;
    path = "/";
  }
  const params = parseParams(query);
  const key = params.get("key") || null;
  const parts = path
    .split("/")
    .filter((p) => p !== "")
    .map(segment);
  const [head, arg] = parts;
  let route: Route;
  if (parts.length === 0) route = { view: "overview" };
  else if (head === "project" && arg && parts.length === 2) route = { view: "project", slug: arg };
  else if (head === "agent" && arg && parts.length === 2) {
    route = { view: "agent", name: arg, box: params.get("box") === "outbox" ? "outbox" : "inbox" };
  } else if (head === "thread" && arg && parts.length === 2) route = { view: "thread", id: arg };
  else if (head === "message" && arg && /^\d+$/.test(arg) && parts.length === 2)
    route = { view: "message", id: Number(arg) };
  else if (head === "search" && parts.length === 1) {
    const filters: SearchFilters = {};
    for (const name of FILTERS) {
      const value = params.get(name);
      if (value) filters[name] = value;
    }
    route = { view: "search", q: params.get("q") ?? "", filters };
  } else route = { view: "missing", path: `/${parts.join("/")}` };
  return { route, key };
}

let stickyKey: string | null = null;

/** Keep `key` in every link made from now on (called once with the key pinned when the viewer opened). */
export function keepPinnedKey(key: string | null): void {
  stickyKey = key;
}

/** The `#…` link of `route`, carrying the pinned key when there is one. */
export function href(route: Route): string {
  const params: [string, string][] = [];
  let path: string;
  switch (route.view) {
    case "overview":
    case "missing":
      path = "/";
      break;
    case "project":
      path = `/project/${encodeURIComponent(route.slug)}`;
      break;
    case "agent":
      path = `/agent/${encodeURIComponent(route.name)}`;
      if (route.box === "outbox") params.push(["box", "outbox"]);
      break;
    case "thread":
      path = `/thread/${encodeURIComponent(route.id)}`;
      break;
    case "message":
      path = `/message/${route.id}`;
      break;
    case "search":
      path = "/search";
      params.push(["q", route.q]);
      for (const name of FILTERS) {
        const value = route.filters[name];
        if (value) params.push([name, value]);
      }
      break;
  }
  if (stickyKey) params.push(["key", stickyKey]);
  const query = params.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
  return `#${path}${query ? `?${query}` : ""}`;
}

/** Go to `route` (adds a history entry, so Back works). */
export function navigate(route: Route): void {
  location.hash = href(route);
}

/**
 * How many viewer pages lie behind the current history entry (0: the page the viewer was opened on),
 * kept in each entry's history.state so Back and Forward restore it. Esc goes back only while it is
 * above 0, so it never leaves the viewer.
 */
let depth = 0;

function stateDepth(): number | null {
  const value = (history.state as { pigeonholeDepth?: unknown } | null)?.pigeonholeDepth;
  return typeof value === "number" ? value : null;
}

/** Call once at start: the entry the viewer opened on is depth 0 (a reload keeps its depth). */
export function startHistory(): void {
  depth = stateDepth() ?? 0;
  history.replaceState({ pigeonholeDepth: depth }, "");
}

/** Call on every hashchange: a new entry is one deeper than the last; Back and Forward restore theirs. */
export function historyChanged(): void {
  const known = stateDepth();
  if (known !== null) depth = known;
  else {
    depth += 1;
    history.replaceState({ pigeonholeDepth: depth }, "");
  }
}

/** Show `route` in place of the current page (no new history entry): live search, filters. */
export function replaceRoute(route: Route): void {
  history.replaceState({ pigeonholeDepth: depth }, "", href(route));
  dispatchEvent(new HashChangeEvent("hashchange"));
}

/** Go back one viewer page, or to the overview from the first one; never out of the viewer. */
export function goBack(current: Route): void {
  if (depth > 0) history.back();
  else if (current.view !== "overview") replaceRoute({ view: "overview" });
}
