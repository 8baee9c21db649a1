import { useState } from "preact/hooks";

interface Props {
  reason: string | null;
  openFile(file: File): void;
  /** Open an unpacked bundle folder: its files keyed by path relative to the folder chosen. */
  openFolder(name: string, files: Map<string, File>): void;
}

/** The files of a folder chosen with `webkitdirectory`, keyed by their path below that folder. */
function folderFiles(list: FileList): { name: string; files: Map<string, File> } {
  const files = new Map<string, File>();
  let name = "folder";
  for (const file of list) {
    const [top, ...rest] = file.webkitRelativePath.split("/");
    name = top ?? name;
    files.set(rest.join("/"), file);
  }
  return { name, files };
}

/**
 * Shown when there is no bundle to open (a viewer hosted on its own): choose or drop a bundle zip or an
 * unpacked bundle folder, or open one by URL with `?bundle=`.
 */
export function Opener({ reason, openFile, openFolder }: Props) {
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
      <label>
        or an unpacked bundle folder
        <input
          id="bundle-folder"
          type="file"
          {...{ webkitdirectory: true }}
          onChange={(e) => {
            const list = e.currentTarget.files;
            if (list && list.length > 0) {
              const { name, files } = folderFiles(list);
              openFolder(name, files);
            }
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
