import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join, normalize, sep } from "node:path";

/**
 * The viewer benchmark's baseline: a page that does only what any sql.js page must do to show an inbox
 * (fetch the database chunks, open them with bare sql.js, run one inbox query), served from the same
 * kind of local server as the bundle, so the viewer's figures can be read as a ratio to it.
 */

const require = createRequire(import.meta.url);
const SQL_JS = require.resolve("sql.js/dist/sql-wasm-browser.js");
const SQL_WASM = require.resolve("sql.js/dist/sql-wasm-browser.wasm");

/** The baseline page: `run(chunkUrls, agentId)` and `search(match)` report their own timings. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>sql.js baseline</title>
<script src="sql-wasm.js"></script>
<script>
let db;
window.openInbox = async (chunks, agentId) => {
  const started = performance.now();
  const SQL = await initSqlJs({ locateFile: () => "sql-wasm.wasm" });
  const parts = await Promise.all(chunks.map(async (c) => new Uint8Array(await (await fetch(c)).arrayBuffer())));
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  db = new SQL.Database(bytes);
  const rows = db.exec(
    "SELECT m.id, m.subject, m.created_ts, s.name FROM message_recipients r JOIN messages m ON m.id = r.message_id " +
    "JOIN agents s ON s.id = m.sender_id WHERE r.agent_id = ? ORDER BY r.message_id DESC LIMIT 100", [agentId]);
  document.body.textContent = rows[0] ? rows[0].values.length + " rows" : "0 rows";
  return performance.now() - started;
};
window.search = (match) => {
  const started = performance.now();
  const ids = db.exec("SELECT docid FROM messages_fts4 WHERE messages_fts4 MATCH ? ORDER BY docid DESC", [match]);
  const count = ids[0] ? ids[0].values.length : 0;
  db.exec("SELECT docid, snippet(messages_fts4) FROM messages_fts4 WHERE messages_fts4 MATCH ? ORDER BY docid DESC LIMIT 20", [match]);
  return { ms: performance.now() - started, count };
};
</script>`;

export interface BaselineServer {
  origin: string;
  close(): Promise<void>;
}

/** Serve the baseline page at `/`, sql.js beside it, and `bundleDir` under `/bundle/`. */
export async function startBaselineServer(bundleDir: string): Promise<BaselineServer> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const send = (file: string, type: string) => {
      res.writeHead(200, {
        "content-type": type,
        "content-length": statSync(file).size,
        "cache-control": "no-store",
      });
      createReadStream(file).pipe(res);
    };
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(PAGE);
    } else if (path === "/sql-wasm.js") send(SQL_JS, "text/javascript");
    else if (path === "/sql-wasm.wasm") send(SQL_WASM, "application/wasm");
    else if (path.startsWith("/bundle/")) {
      const file = normalize(join(bundleDir, path.slice("/bundle/".length)));
      if (!file.startsWith(normalize(bundleDir + sep))) return void res.writeHead(403).end();
      try {
        send(file, "application/octet-stream");
      } catch {
        res.writeHead(404).end();
      }
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
