import type { Manifest } from "../../../exporter/bundle-format.js";
import { shortTime } from "../lib/format.js";
import type { Signer } from "../lib/verify.js";

export type Verification = "pending" | "none" | "verified" | "unsigned" | "tampered" | "locked";

interface Props {
  state: Verification;
  signer?: Signer | null;
  manifest?: Manifest;
  problems?: string[];
  label?: string;
}

/**
 * The one status element, `data-verification` carrying the state. Verified shows the signing key's
 * fingerprint and whether it matched a key pinned in the link; tampered lists what failed.
 */
export function Status({ state, signer, manifest, problems, label }: Props) {
  const about = manifest
    ? ` · exported ${shortTime(manifest.generated_at)}${manifest.pseudonymized ? " · pseudonymized" : ""} · scrub: ${manifest.scrub.preset}`
    : "";
  return (
    <div id="status" class={`status status-${state}`} data-verification={state} role="status">
      {state === "pending" ? <span>Opening the bundle…</span> : null}
      {state === "none" ? <span>No bundle open.</span> : null}
      {state === "verified" && signer ? (
        <span>
          <strong>✓ Verified</strong>
          {" · signed by "}
          <code class="fingerprint" title={`Ed25519 public key ${signer.publicKey}`}>
            {signer.fingerprint}
          </code>
          {signer.pinned ? (
            <span class="pin pin-ok"> · matches the key pinned in the link</span>
          ) : (
            <span class="pin"> · no key pinned in the link (add #key=… to pin one)</span>
          )}
          <span class="muted">{about}</span>
        </span>
      ) : null}
      {state === "unsigned" ? (
        <span>
          <strong>⚠ Unsigned</strong>
          {" · every file matches the manifest, but nobody signed it: its origin cannot be checked"}
          <span class="muted">{about}</span>
        </span>
      ) : null}
      {state === "locked" ? (
        <span>
          <strong>🔒 Encrypted</strong>
          {signer ? (
            <>
              {" · signature verified, signed by "}
              <code class="fingerprint">{signer.fingerprint}</code>
              {signer.pinned ? " (matches the pinned key)" : ""}
            </>
          ) : (
            " · unsigned"
          )}
          {" · enter the passphrase or identity to read it"}
        </span>
      ) : null}
      {state === "tampered" ? (
        <div>
          <strong>✗ Tampered — this bundle is not shown</strong>
          {label ? <span class="muted">{` (${label})`}</span> : null}
          <ul class="problems">
            {(problems ?? []).map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}
