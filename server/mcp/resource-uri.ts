import { fail } from "../../engine/index.js";

/**
 * A resource URI template of the form `resource://host/{var}/lit{?q1,q2}`: path variables are single
 * segments; query variables are optional. Matching uses the WHATWG URL parser, so percent-encoding is
 * decoded once, and unknown query parameters are refused rather than ignored.
 */
export class ResourceTemplate {
  readonly template: string;
  private readonly host: string;
  private readonly segments: string[];
  private readonly query: Set<string>;

  constructor(template: string) {
    this.template = template;
    const m = /^resource:\/\/([^/{?]+)((?:\/[^{?/]*|\/\{[a-z_]+\})*)(?:\{\?([a-z_,]+)\})?$/.exec(template);
    if (!m) throw new Error(`bad resource template ${template}`);
    this.host = m[1] as string;
    this.segments = (m[2] ?? "").split("/").slice(1);
    this.query = new Set(m[3] ? m[3].split(",") : []);
  }

  /** The variables of `uri` when it matches (path and allowed query parameters), else null. */
  match(uri: string): Record<string, string> | null {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return null;
    }
    if (url.protocol !== "resource:" || url.host !== this.host) return null;
    const parts = url.pathname === "" ? [] : url.pathname.split("/").slice(1);
    if (parts.length !== this.segments.length) return null;
    const vars: Record<string, string> = {};
    for (const [i, segment] of this.segments.entries()) {
      const part = parts[i] as string;
      const variable = /^\{([a-z_]+)\}$/.exec(segment);
      if (variable) {
        if (part === "") return null;
        vars[variable[1] as string] = decodeURIComponent(part);
      } else if (part !== segment) {
        return null;
      }
    }
    for (const [key, value] of url.searchParams) {
      if (!this.query.has(key)) {
        throw fail.invalid(`Unknown parameter ${JSON.stringify(key)} for ${this.template}`, { uri });
      }
      vars[key] = value;
    }
    return vars;
  }
}

/** Read a query flag: `true`/`1`/`yes` or `false`/`0`/`no`; INVALID_ARGUMENT otherwise. */
export function flag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw fail.invalid(`${name} must be true or false; got ${JSON.stringify(value)}`);
}

/** Read a whole-number query parameter; INVALID_ARGUMENT otherwise. */
export function whole(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value))
    throw fail.invalid(`${name} must be a whole number; got ${JSON.stringify(value)}`);
  return Number(value);
}
