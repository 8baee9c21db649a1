import type { IncomingMessage } from "node:http";
import type { HttpFailure } from "./reply.js";

/**
 * Request bodies, read whole and bounded. A declared `Content-Length` over the limit is refused before a
 * byte is read; a chunked body is counted while it streams and refused the moment it passes the limit,
 * so no request can make the server buffer more than the limit.
 */

/** A body read and parsed as JSON (`value` undefined for an empty body), or the failure to send. */
export type BodyOutcome = { ok: true; value: unknown } | { ok: false; failure: HttpFailure };

/** True for `application/json` and `application/*+json`, with any parameters (`; charset=utf-8`). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** Default request body limit: 4 MiB (a maximal message body, JSON-escaped, fits with room to spare). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/**
 * Read `req`'s body (at most `maxBytes`) and parse it as JSON. Never throws: too large is a 413, bad JSON
 * a 400 with JSON-RPC code -32700, a connection dropped mid-body a 400.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<BodyOutcome> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(maxBytes);
  const read = await new Promise<Buffer[] | "too large" | "cut off">((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      // Stop buffering but keep draining: destroying the request would take the 413 response with it.
      req.off("data", onData);
      req.resume();
      resolve("too large");
    };
    req.on("data", onData);
    req.once("end", () => resolve(chunks));
    req.once("close", () => {
      if (!req.complete) resolve("cut off");
    });
    req.once("error", () => resolve("cut off"));
  });
  if (read === "too large") return tooLarge(maxBytes);
  if (read === "cut off") {
    return {
      ok: false,
      failure: { status: 400, type: "INVALID_ARGUMENT", message: "The request body was cut off." },
    };
  }
  const text = Buffer.concat(read).toString("utf8");
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return {
      ok: false,
      failure: {
        status: 400,
        type: "INVALID_ARGUMENT",
        message: "Parse error: the request body is not valid JSON.",
        rpcCode: -32700,
      },
    };
  }
}

function tooLarge(maxBytes: number): BodyOutcome {
  return {
    ok: false,
    failure: {
      status: 413,
      type: "TOO_LARGE",
      message: `The request body is larger than this server accepts (${maxBytes} bytes, PIGEONHOLE_MAX_BODY_BYTES); send less per request.`,
      data: { status: 413, max_bytes: maxBytes },
      // The rest of an oversized body is never read, so this connection cannot carry another request.
      headers: { connection: "close" },
    },
  };
}
