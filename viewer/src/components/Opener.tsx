import { useState } from "preact/hooks";

interface Props {
  reason: string | null;
  openFile(file: File): void;
}

/**
 * Shown when there is no bundle to open (a viewer hosted on its own): choose or drop a bundle zip, or
 * open one by URL with `?bundle=`.
 */
export function Opener({ reason, openFile }: Props) {
  const [url, setUrl] = useState("");
  return (
    <section class="view opener">
      <h1>Open a Pigeonhole bundle</h1>
      {reason ? <p class="muted">{reason}</p> : null}
      <label class="dropzone">
        <span>Drop a bundle zip (or folder) anywhere on this page, or choose one:</span>
        <input
          id="bundle-file"
          type="file"
          accept=".zip,application/zip"
          onChange={(e) => {
            const chosen = e.currentTarget.files?.[0];
            if (chosen) openFile(chosen);
          }}
        />
      </label>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (url.trim() === "") return;
          const next = new URL(location.href);
          next.searchParams.set("bundle", url.trim());
          location.assign(next.href);
        }}
      >
        <label>
          or a bundle URL
          <input
            type="url"
            placeholder="https://example.org/bundle/"
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Open</button>
      </form>
      <p class="muted small">The zip is read in this browser; nothing is uploaded.</p>
    </section>
  );
}
