import { useRef, useState } from "preact/hooks";
import { identitiesInFile, parseSecret, type Secret } from "../lib/decrypt.js";

interface Props {
  mode: "x25519" | "scrypt";
  error: string | null;
  busy: boolean;
  unlock(secret: Secret): void;
}

/** The form of a locked bundle: a passphrase, or an age identity typed, pasted or read from a file. */
export function Unlock({ mode, error, busy, unlock }: Props) {
  const [text, setText] = useState("");
  const file = useRef<HTMLInputElement>(null);
  const wants = mode === "scrypt" ? "passphrase" : "age identity (AGE-SECRET-KEY-1…)";
  return (
    <form
      class="unlock"
      onSubmit={(e) => {
        e.preventDefault();
        if (text !== "") unlock(parseSecret(text));
      }}
    >
      <h1>This bundle is encrypted</h1>
      <p>{`It was encrypted with age to a ${wants}. Decryption happens in this browser; nothing is sent anywhere.`}</p>
      <label>
        {mode === "scrypt" ? "Passphrase" : "Age identity"}
        <input
          id="secret"
          type="password"
          autocomplete="off"
          value={text}
          disabled={busy}
          onInput={(e) => setText(e.currentTarget.value)}
        />
      </label>
      <div class="row">
        <button type="submit" disabled={busy || text === ""}>
          Unlock
        </button>
        {mode === "x25519" ? (
          <label class="file">
            or read an identity file
            <input
              ref={file}
              type="file"
              disabled={busy}
              onChange={async (e) => {
                const chosen = e.currentTarget.files?.[0];
                if (chosen) unlock(identitiesInFile(await chosen.text()));
              }}
            />
          </label>
        ) : null}
      </div>
      {error ? (
        <p class="error" role="alert" id="unlock-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
