import { useEffect, useErrorBoundary, useLayoutEffect } from "preact/hooks";
import type { OpenBundle } from "../lib/loader.js";
import type { Route } from "../lib/router.js";
import { AgentView } from "./views/AgentView.js";
import { MessageView } from "./views/MessageView.js";
import { Overview } from "./views/Overview.js";
import { NotFound, ProjectView } from "./views/ProjectView.js";
import { SearchView } from "./views/SearchView.js";
import { ThreadView } from "./views/ThreadView.js";

/** The view of `route` over an open bundle; a view that throws shows its error instead of a blank page. */
export function RouteView({ bundle, route }: { bundle: OpenBundle; route: Route }) {
  const [failure, reset] = useErrorBoundary();
  // A new route clears the failure of the previous one.
  useEffect(() => {
    if (failure) reset();
  }, [route]);
  // Before the next event can arrive, so a key pressed right after navigating is not undone.
  useLayoutEffect(() => {
    document.getElementById("main")?.focus({ preventScroll: true });
    scrollTo(0, 0);
  }, [route]);
  if (failure) {
    return (
      <section class="view">
        <h1>This view failed</h1>
        <p class="error" role="alert">
          {String((failure as Error).message ?? failure)}
        </p>
      </section>
    );
  }
  switch (route.view) {
    case "overview":
      return <Overview bundle={bundle} />;
    case "project":
      return <ProjectView bundle={bundle} slug={route.slug} />;
    case "agent":
      return <AgentView bundle={bundle} name={route.name} box={route.box} />;
    case "thread":
      return <ThreadView bundle={bundle} id={route.id} />;
    case "message":
      return <MessageView bundle={bundle} id={route.id} />;
    case "search":
      return <SearchView bundle={bundle} q={route.q} filters={route.filters} />;
    case "missing":
      return <NotFound what={`page ${route.path}`} />;
  }
}
