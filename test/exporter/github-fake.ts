import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";

/**
 * A stand-in for the GitHub REST API (the one service the tests cannot reach): the endpoints
 * `deploy --github` calls, over real HTTP on loopback, with an in-memory Git object store and a record
 * of every request. Faults (a 429, a 403) can be queued for the next request matching a route.
 */

export interface RecordedRequest {
  method: string;
  /** Path without the query, e.g. `/repos/o/r/git/blobs`. */
  path: string;
  /** `METHOD route`, with ids replaced: `POST blobs`, `GET ref`, `PATCH ref`, ... */
  route: string;
  authorization: string | undefined;
  body: unknown;
}

interface TreeEntry {
  path: string;
  mode: string;
  type: "blob";
  sha: string;
}

interface FakeRepo {
  empty: boolean;
  refs: Map<string, string>;
  blobs: Map<string, Buffer>;
  trees: Map<string, TreeEntry[]>;
  commits: Map<string, { tree: string; parents: string[]; message: string }>;
  pages: { build_type: string; source: { branch: string; path: string }; html_url: string } | null;
}

export interface Fault {
  route: string;
  status: number;
  headers?: Record<string, string>;
  message: string;
}

export interface FakeGitHub {
  url: string;
  requests: RecordedRequest[];
  /** Routes of the recorded requests, in order. */
  routes(): string[];
  addRepo(fullName: string, options?: { empty?: boolean }): FakeRepo;
  repo(fullName: string): FakeRepo;
  /** Answer the next request on `route` with this error instead. */
  fail(fault: Fault): void;
  /** Write the files of `branch`'s head commit into `dir`. */
  checkout(fullName: string, branch: string, dir: string): void;
  close(): Promise<void>;
}

/** Start the fake on 127.0.0.1; `tokens` are the valid ones (anything else gets 401). */
export async function startFakeGitHub(tokens: string[]): Promise<FakeGitHub> {
  const repos = new Map<string, FakeRepo>();
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  let counter = 0;
  const id = (value: unknown) =>
    createHash("sha1")
      .update(`${++counter}:${JSON.stringify(value)}`)
      .digest("hex");

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://fake");
    const path = decodeURIComponent(url.pathname);
    const text = await body(req);
    const json = text === "" ? undefined : JSON.parse(text);
    const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    const rest = match?.[3] ?? "";
    const route = `${req.method} ${routeName(rest)}`;
    requests.push({
      method: req.method ?? "",
      path,
      route,
      authorization: req.headers.authorization,
      body: json,
    });
    const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      res.end(JSON.stringify(data));
    };
    const fault = faults.findIndex((f) => f.route === route);
    if (fault !== -1) {
      const [f] = faults.splice(fault, 1);
      if (f) return send(f.status, { message: f.message }, f.headers);
    }
    const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (!token || !tokens.includes(token)) return send(401, { message: "Bad credentials" });
    const repo = match ? repos.get(`${match[1]}/${match[2]}`) : undefined;
    if (!repo) return send(404, { message: "Not Found" });
    if (rest === "") return send(200, { full_name: `${match?.[1]}/${match?.[2]}` });
    if (repo.empty && rest.startsWith("/git/")) return send(409, { message: "Git Repository is empty." });

    let m: RegExpExecArray | null;
    m = req.method === "GET" ? /^\/git\/ref\/(.+)$/.exec(rest) : null;
    if (m) {
      const sha = repo.refs.get(`refs/${m[1]}`);
      return sha
        ? send(200, { ref: `refs/${m[1]}`, object: { sha, type: "commit" } })
        : send(404, { message: "Not Found" });
    }
    m = req.method === "GET" ? /^\/git\/commits\/(\w+)$/.exec(rest) : null;
    if (m) {
      const commit = repo.commits.get(m[1] ?? "");
      return commit
        ? send(200, {
            sha: m[1],
            tree: { sha: commit.tree },
            parents: commit.parents.map((sha) => ({ sha })),
          })
        : send(404, { message: "Not Found" });
    }
    m = req.method === "GET" ? /^\/git\/trees\/(\w+)$/.exec(rest) : null;
    if (m) {
      const tree = repo.trees.get(m[1] ?? "");
      return tree ? send(200, { sha: m[1], tree, truncated: false }) : send(404, { message: "Not Found" });
    }
    if (req.method === "POST" && rest === "/git/blobs") {
      const bytes = Buffer.from(json.content, json.encoding === "base64" ? "base64" : "utf8");
      const sha = createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
      repo.blobs.set(sha, bytes);
      return send(201, { sha });
    }
    if (req.method === "POST" && rest === "/git/trees") {
      const entries = json.tree as TreeEntry[];
      if (json.base_tree !== undefined) return send(422, { message: "base_tree is not expected" });
      for (const entry of entries)
        if (!repo.blobs.has(entry.sha))
          return send(422, { message: `tree.sha ${entry.sha} is not a valid blob` });
      const sha = id(entries);
      repo.trees.set(sha, entries);
      return send(201, { sha });
    }
    if (req.method === "POST" && rest === "/git/commits") {
      if (!repo.trees.has(json.tree)) return send(422, { message: "Tree SHA does not exist" });
      const sha = id(json);
      repo.commits.set(sha, { tree: json.tree, parents: json.parents ?? [], message: json.message });
      return send(201, { sha, tree: { sha: json.tree } });
    }
    if (req.method === "POST" && rest === "/git/refs") {
      if (repo.refs.has(json.ref)) return send(422, { message: "Reference already exists" });
      repo.refs.set(json.ref, json.sha);
      return send(201, { ref: json.ref, object: { sha: json.sha } });
    }
    m = req.method === "PATCH" ? /^\/git\/refs\/(.+)$/.exec(rest) : null;
    if (m) {
      const ref = `refs/${m[1]}`;
      const current = repo.refs.get(ref);
      if (!current) return send(422, { message: "Reference does not exist" });
      if (!json.force && !ancestors(repo, json.sha).has(current))
        return send(422, { message: "Update is not a fast forward" });
      repo.refs.set(ref, json.sha);
      return send(200, { ref, object: { sha: json.sha } });
    }
    if (req.method === "POST" && rest === "/pages") {
      if (repo.pages) return send(409, { message: "GitHub Pages is already enabled." });
      const [owner, name] = [match?.[1], match?.[2]];
      repo.pages = {
        build_type: json.build_type ?? "legacy",
        source: json.source,
        html_url: `https://${owner}.github.io/${name}/`,
      };
      return send(201, repo.pages);
    }
    if (req.method === "GET" && rest === "/pages") {
      return repo.pages ? send(200, repo.pages) : send(404, { message: "Not Found" });
    }
    return send(404, { message: `no fake for ${route}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const repoNamed = (fullName: string): FakeRepo => {
    const repo = repos.get(fullName);
    if (!repo) throw new Error(`no fake repo ${fullName}`);
    return repo;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    routes: () => requests.map((r) => r.route),
    addRepo(fullName, options = {}) {
      const repo: FakeRepo = {
        empty: options.empty === true,
        refs: new Map(),
        blobs: new Map(),
        trees: new Map(),
        commits: new Map(),
        pages: null,
      };
      repos.set(fullName, repo);
      return repo;
    },
    repo: repoNamed,
    fail: (fault) => faults.push(fault),
    checkout(fullName, branch, dir) {
      const repo = repoNamed(fullName);
      const head = repo.refs.get(`refs/heads/${branch}`);
      const commit = head ? repo.commits.get(head) : undefined;
      const tree = commit ? repo.trees.get(commit.tree) : undefined;
      if (!tree) throw new Error(`no ${branch} in ${fullName}`);
      for (const entry of tree) {
        const file = join(dir, ...entry.path.split("/"));
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, repo.blobs.get(entry.sha) ?? Buffer.alloc(0));
      }
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** `rest` of a repository path as a route name: `ref`, `commit`, `tree`, `blobs`, `trees`, ... */
function routeName(rest: string): string {
  if (rest === "") return "repo";
  if (rest.startsWith("/git/ref/") || rest.startsWith("/git/refs/")) return "ref";
  if (rest === "/git/refs") return "refs";
  if (rest.startsWith("/git/commits/")) return "commit";
  if (rest.startsWith("/git/trees/")) return "tree";
  return rest.replace(/^\/(git\/)?/, "");
}

function ancestors(repo: FakeRepo, sha: string): Set<string> {
  const seen = new Set<string>();
  const queue = [sha];
  while (queue.length > 0) {
    const next = queue.pop() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    queue.push(...(repo.commits.get(next)?.parents ?? []));
  }
  return seen;
}

async function body(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}
