import { useEffect, useState } from "preact/hooks";
import { type ResolvedAttachment, resolveAttachment } from "../lib/attachments.js";
import { byteSize } from "../lib/format.js";
import type { OpenBundle } from "../lib/loader.js";
import type { AttachmentMeta } from "../lib/queries/messages.js";

/** A message's attachments: raster images inline, everything else as a download. */
export function Attachments({ attachments, bundle }: { attachments: AttachmentMeta[]; bundle: OpenBundle }) {
  if (attachments.length === 0) return null;
  return (
    <ul class="attachments">
      {attachments.map((a) => (
        <AttachmentItem key={`${a.message_id}-${a.ordinal}`} meta={a} bundle={bundle} />
      ))}
    </ul>
  );
}

function AttachmentItem({ meta, bundle }: { meta: AttachmentMeta; bundle: OpenBundle }) {
  const [resolved, setResolved] = useState<ResolvedAttachment | null>(null);
  useEffect(() => {
    let url: string | null = null;
    let live = true;
    resolveAttachment(meta, bundle.db, bundle.manifest, bundle.source).then(
      (r) => {
        if (r.ok) url = r.url;
        if (live) setResolved(r);
        else if (url) URL.revokeObjectURL(url);
      },
      (error: Error) => live && setResolved({ ok: false, reason: error.message }),
    );
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [meta, bundle]);

  const label = `${meta.filename} (${meta.media_type}, ${byteSize(meta.bytes)})`;
  if (resolved === null) return <li class="attachment pending">{label} …</li>;
  if (!resolved.ok) {
    return (
      <li class="attachment missing">
        {label} — {resolved.reason}
      </li>
    );
  }
  return (
    <li class="attachment">
      {resolved.image ? <img src={resolved.url} alt={meta.filename} loading="lazy" /> : null}
      <a href={resolved.url} download={meta.filename}>
        {label}
      </a>
    </li>
  );
}
