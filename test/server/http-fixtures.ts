import { once } from "node:events";
import { createServer, request, type Server } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";
import { ensureProject, openMailbox, registerAgent } from "../../engine/index.js";

/**
 * Real parts for the HTTP security tests: a seeded mailbox, JWTs signed the way an identity provider
 * would, a JWKS endpoint on a local node:http server, and raw requests with headers fetch cannot set.
 */

export const ISSUER = "https://id.test.example";
export const AUDIENCE = "pigeonhole-test";

/** A project with two agents, and their registration tokens (to send as one of them from any session). */
export interface Seeded {
  project: string;
  sender: string;
  senderToken: string;
  recipient: string;
}

/** Create `/work/alpha` with two agents in the mailbox at `home`, then close it. */
export async function seedMailbox(home: string): Promise<Seeded> {
  const mb = openMailbox({ home, archive: false });
  const project = ensureProject(mb, { human_key: "/work/alpha" });
  const sender = registerAgent(mb, { project_key: project.slug, program: "test", model: "none" });
  const recipient = registerAgent(mb, { project_key: project.slug, program: "test", model: "none" });
  await mb.close();
  return {
    project: project.slug,
    sender: sender.name,
    senderToken: sender.registration_token,
    recipient: recipient.name,
  };
}

/** Sign an HS256 JWT with `secret`; `exp` defaults to ten minutes from now. */
export function hs256(secret: string, claims: JWTPayload & { role?: string }): Promise<string> {
  return sign(claims, new TextEncoder().encode(secret), "HS256");
}

async function sign(claims: JWTPayload, key: Parameters<SignJWT["sign"]>[0], alg: string, kid?: string) {
  const jwt = new SignJWT(claims).setProtectedHeader(kid ? { alg, kid } : { alg }).setIssuedAt();
  if (claims.exp === undefined) jwt.setExpirationTime("10m");
  return jwt.sign(key);
}

/** An ES256 key pair whose public half is served as a JWKS at `url` from 127.0.0.1. */
export interface JwksServer {
  url: string;
  sign(claims: JWTPayload & { role?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startJwksServer(): Promise<JwksServer> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "ES256", use: "sig" };
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}/.well-known/jwks.json`,
    sign: (claims) => sign(claims, privateKey, "ES256", "test-key"),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** Connect the SDK client to `${url}/mcp`, sending `headers` with every request. */
export async function connectMcp(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: "http-security-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } });
  await client.connect(transport);
  return client;
}

/** The bearer header for `credential`. */
export function bearer(credential: string): Record<string, string> {
  return { authorization: `Bearer ${credential}` };
}

/** Headers of a JSON-RPC POST to `/mcp` as the Streamable HTTP transport sends it. */
export const RPC_HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};

/** An initialize request body. */
export const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

/** A raw response: status, headers and body text. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * Send one request with full control of headers (fetch cannot set Host) and, with `chunks`, a chunked
 * body written piece by piece (no Content-Length).
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; chunks?: string[] },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    if (options.chunks) for (const chunk of options.chunks) req.write(chunk);
    req.end(options.body);
  });
}
