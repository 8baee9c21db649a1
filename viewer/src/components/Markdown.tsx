import { useMemo } from "preact/hooks";
import { renderMarkdown } from "../lib/markdown.js";

/** A message body: Markdown through the sanitizer (lib/markdown.ts), the only HTML the viewer inserts. */
export function Markdown({ source }: { source: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  // The only HTML the viewer inserts, and it comes from renderMarkdown's allow-list sanitizer.
  return <div class="md" dangerouslySetInnerHTML={{ __html: html }} />;
}
