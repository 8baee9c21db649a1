/**
 * Our own secret patterns: the fast first pass of the scrubber. They cover the credentials agents most
 * often paste into mail (and that secretlint's recommended preset misses or reports with unreliable
 * ranges); secretlint runs after them for extra coverage (see secretlint.ts). Each match is replaced by
 * `[REDACTED:<rule>]`; patterns with a `secret` group keep their label (`password=`, `Bearer `, the URL
 * scheme) and replace only the value, so the text still reads.
 */

export interface SecretRule {
  /** The `<rule>` of the marker and the key of the redaction report. */
  name: string;
  /** Global regex. When it has a `secret` named group, only that group is replaced. */
  pattern: RegExp;
  /**
   * Case-insensitive literals of which at least one occurs in every match: a text containing none of
   * any rule's triggers is skipped without running the rules (most mail holds no secret).
   */
  triggers: readonly string[];
  /** When set, the rule only applies to a text that also matches this (a secret recognized by context). */
  context?: RegExp;
}

const B64 = "A-Za-z0-9+/";
const AWS_KEY_ID_PREFIXES = ["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ABIA", "ACCA"];

/** Applied in order; a later rule never sees what an earlier one replaced (markers match no rule). */
export const SECRET_RULES: readonly SecretRule[] = [
  {
    // A whole PEM block, or from BEGIN to the end of the text when the END line is missing (truncated paste).
    name: "private-key",
    pattern:
      /-----BEGIN[A-Z0-9 _-]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 _-]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g,
    triggers: ["PRIVATE KEY"],
  },
  { name: "age-secret-key", pattern: /\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b/g, triggers: ["AGE-SECRET-KEY-"] },
  {
    name: "github-token",
    pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9_]{30,255}|github_pat_[A-Za-z0-9_]{22,255})/g,
    triggers: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
  },
  {
    name: "gitlab-token",
    pattern: /(?<![A-Za-z0-9_])gl(?:pat|dt|rt|ptt|ft|soat|oas|cbt|imt)-[A-Za-z0-9_-]{20,255}/g,
    triggers: ["glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glsoat-", "gloas-", "glcbt-", "glimt-"],
  },
  {
    name: "slack-webhook",
    pattern: /https:\/\/hooks\.slack(?:-gov)?\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/+-]+/gi,
    triggers: ["hooks.slack"],
  },
  {
    name: "slack-token",
    pattern: /(?<![A-Za-z0-9_])(?:xox[abposre]|xapp)-[A-Za-z0-9-]{10,255}/g,
    triggers: ["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xapp-"],
  },
  {
    name: "discord-webhook",
    pattern: /https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d+\/[A-Za-z0-9_-]+/gi,
    triggers: ["/api/webhooks/"],
  },
  {
    name: "anthropic-key",
    pattern: /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,255}/g,
    triggers: ["sk-ant-"],
  },
  {
    name: "openai-key",
    pattern:
      /(?<![A-Za-z0-9_-])sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,255}|[A-Za-z0-9]{20,255}(?:T3BlbkFJ[A-Za-z0-9_-]{20,255})?)/g,
    triggers: ["sk-"],
  },
  {
    name: "stripe-key",
    pattern: /(?<![A-Za-z0-9_])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,255}/g,
    triggers: ["_live_", "_test_"],
  },
  { name: "stripe-webhook-secret", pattern: /\bwhsec_[A-Za-z0-9+/=]{24,255}/g, triggers: ["whsec_"] },
  {
    name: "aws-access-key-id",
    pattern: new RegExp(`\\b(?:A3T[A-Z0-9]|${AWS_KEY_ID_PREFIXES.join("|")})[A-Z0-9]{16}\\b`, "g"),
    triggers: ["A3T", ...AWS_KEY_ID_PREFIXES],
  },
  {
    name: "aws-secret-access-key",
    pattern: new RegExp(
      `(?:aws.?)?secret.?(?:access.?)?key["']?\\s*(?:=>|[:=])\\s*["']?(?<secret>[${B64}]{40})(?![${B64}=])`,
      "gi",
    ),
    triggers: ["secret"],
  },
  {
    // 40 base64 characters (not a hex digest) in a text that also holds an AWS access key id.
    name: "aws-secret-access-key",
    pattern: new RegExp(`(?<![${B64}=])(?=[${B64}]*[G-Zg-z+/])[${B64}]{40}(?![${B64}=])`, "g"),
    triggers: ["A3T", ...AWS_KEY_ID_PREFIXES],
    context: new RegExp(`\\b(?:A3T[A-Z0-9]|${AWS_KEY_ID_PREFIXES.join("|")})[A-Z0-9]{16}\\b`),
  },
  { name: "google-api-key", pattern: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g, triggers: ["AIza"] },
  { name: "google-oauth-secret", pattern: /\bGOCSPX-[A-Za-z0-9_-]{20,64}/g, triggers: ["GOCSPX-"] },
  { name: "google-oauth-token", pattern: /\bya29\.[0-9A-Za-z_-]{20,2048}/g, triggers: ["ya29."] },
  {
    name: "gcp-private-key-id",
    pattern: /"private_key_id"\s*:\s*"(?<secret>[0-9a-f]{40})"/g,
    triggers: ["private_key_id"],
  },
  { name: "npm-token", pattern: /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9_])/g, triggers: ["npm_"] },
  {
    name: "npm-token",
    pattern: /_authToken\s*=\s*(?<secret>(?![$[])[^\s"'`]+)/g,
    triggers: ["_authToken"],
  },
  { name: "pypi-token", pattern: /\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{40,}/g, triggers: ["pypi-"] },
  {
    name: "azure-storage-key",
    pattern: new RegExp(`AccountKey=(?<secret>[${B64}]{40,}={0,2})`, "g"),
    triggers: ["AccountKey="],
  },
  {
    name: "jwt",
    pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}/g,
    triggers: ["eyJ"],
  },
  {
    name: "bearer-token",
    pattern: /\bbearer\s+(?<secret>(?!\[REDACTED)[A-Za-z0-9._~+/-]{16,}=*)/gi,
    triggers: ["bearer"],
  },
  {
    name: "basic-auth",
    pattern: new RegExp(`\\bauthorization\\s*:\\s*basic\\s+(?<secret>[${B64}]{8,}={0,2})`, "gi"),
    triggers: ["basic"],
  },
  {
    // scheme://user:password@host: both user and password go (a user part is often a token too).
    name: "url-credentials",
    pattern: /\b[a-z][a-z0-9+.-]{1,30}:\/\/(?<secret>[^\s:@/?#[\]]+:[^\s@/?#[\]]+)@/gi,
    triggers: ["://"],
  },
  {
    name: "password-assignment",
    pattern:
      /(?<![A-Za-z])(?:password|passwd|pwd|passphrase|secret|client_secret|secret_key|api[_-]?key|access_token|auth_token)["']?\s*(?:=>|[:=])\s*["']?(?<secret>(?![$%{<([]|REDACTED)[^\s"'`,;]{6,})/gi,
    triggers: ["passw", "passphrase", "pwd", "secret", "api_key", "api-key", "apikey", "_token"],
  },
];

/** The marker that replaces a secret found by `rule`. */
export function redactionMarker(rule: string): string {
  return `[REDACTED:${rule}]`;
}

/** Counts of redactions per rule: the redaction report. Never holds a secret. */
export class RedactionCounts {
  private readonly counts = new Map<string, number>();

  add(rule: string, n = 1): void {
    this.counts.set(rule, (this.counts.get(rule) ?? 0) + n);
  }

  /** Counts by rule name, sorted by name. */
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  total(): number {
    let n = 0;
    for (const value of this.counts.values()) n += value;
    return n;
  }
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
/**
 * Matched against the lower-cased text: about twice as fast as a case-insensitive regex. The triggers
 * are ASCII, and lower-casing maps every ASCII letter to its lower case and keeps a run of ASCII
 * characters contiguous, so it finds every trigger a case-insensitive search would (and perhaps more,
 * which only costs a rule run).
 */
const PREFILTER = new RegExp(
  [...new Set(SECRET_RULES.flatMap((rule) => rule.triggers.map((t) => t.toLowerCase())))]
    .map(escapeRegex)
    .join("|"),
);

/**
 * `text` with every match of SECRET_RULES replaced by its marker, each counted in `counts`. A text
 * holding no trigger literal is returned as is without running any rule.
 */
export function redactSecrets(text: string, counts: RedactionCounts): string {
  if (!PREFILTER.test(text.toLowerCase())) return text;
  let out = text;
  for (const rule of SECRET_RULES) {
    // Context is looked for in the original text: an earlier rule may already have replaced it.
    if (rule.context && !rule.context.test(text)) continue;
    rule.pattern.lastIndex = 0;
    out = out.replace(rule.pattern, (...args: unknown[]) => {
      const match = args[0] as string;
      const groups = args[args.length - 1] as Record<string, string | undefined> | undefined;
      counts.add(rule.name);
      const secret = typeof groups === "object" ? groups?.secret : undefined;
      if (secret === undefined) return redactionMarker(rule.name);
      const at = match.lastIndexOf(secret);
      return match.slice(0, at) + redactionMarker(rule.name) + match.slice(at + secret.length);
    });
  }
  return out;
}

/** True when `text` holds anything SECRET_RULES would redact (used on binary attachments read as latin1). */
export function containsSecret(text: string): boolean {
  if (!PREFILTER.test(text.toLowerCase())) return false;
  return SECRET_RULES.some((rule) => {
    if (rule.context && !rule.context.test(text)) return false;
    rule.pattern.lastIndex = 0;
    const found = rule.pattern.test(text);
    rule.pattern.lastIndex = 0;
    return found;
  });
}
