import DOMPurify from "dompurify";
import { Marked } from "marked";

/**
 * Markdown to HTML that is safe to insert: marked renders (raw HTML passes through it), then DOMPurify
 * keeps only an allow-list of formatting tags and attributes. Nothing in the result can run script or
 * load anything from another origin: links may point only to http(s), mailto or the viewer's own `#/`
 * routes and open in a new tab with rel=noopener; images are kept only as inline `data:image/…` (raster
 * types), others lose their source and show their alt text.
 */
const marked = new Marked({ gfm: true, async: false });

const ALLOWED_TAGS = [
  "a",
  "abbr",
  "b",
  "blockquote",
  "br",
  "code",
  "dd",
  "del",
  "details",
  "div",
  "dl",
  "dt",
  "em",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "hr",
  "i",
  "img",
  "kbd",
  "li",
  "mark",
  "ol",
  "p",
  "pre",
  "q",
  "s",
  "samp",
  "small",
  "span",
  "strong",
  "sub",
  "summary",
  "sup",
  "table",
  "tbody",
  "td",
  "tfoot",
  "th",
  "thead",
  "tr",
  "u",
  "ul",
];
const ALLOWED_ATTR = ["href", "title", "alt", "src", "colspan", "rowspan", "align", "start", "open"];
const SAFE_IMAGE = /^data:image\/(?:png|jpeg|gif|webp|avif|bmp);base64,[a-z0-9+/=\s]+$/i;

let purifier: ReturnType<typeof DOMPurify> | null = null;

function sanitizer(): ReturnType<typeof DOMPurify> {
  if (purifier) return purifier;
  const p = DOMPurify(window);
  p.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName === "A") {
      const href = node.getAttribute("href") ?? "";
      if (href.startsWith("#/")) return;
      if (!/^(?:https?:|mailto:)/i.test(href)) node.removeAttribute("href");
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    } else if (node.nodeName === "IMG") {
      const src = node.getAttribute("src") ?? "";
      if (!SAFE_IMAGE.test(src)) {
        node.removeAttribute("src");
        node.setAttribute("title", "image not loaded: the viewer loads nothing from outside the bundle");
      }
    }
  });
  purifier = p;
  return p;
}

/** Render Markdown `source` to sanitized HTML (see the module comment for what survives). */
export function renderMarkdown(source: string): string {
  const html = marked.parse(source) as string;
  return sanitizer().sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOW_DATA_ATTR: false,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#\/|data:image\/)/i,
  }) as string;
}
