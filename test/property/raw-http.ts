import { request } from "node:http";

/** A raw HTTP answer: status, content type, headers and body text. */
export interface RawAnswer {
  status: number;
  contentType: string;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One well-formed request on a connection of its own, with the path sent exactly as given (fetch would
 * normalize it) and an explicit Content-Length (without one, Node sends an OPTIONS body unframed and the
 * next request on a shared connection would be read as garbage).
 */
export function rawRequest(
  baseUrl: string,
  options: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  const { body } = options;
  const headers =
    body === undefined
      ? options.headers
      : { ...options.headers, "content-length": String(Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: options.method,
        path: options.path,
        headers,
        agent: false,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers["content-type"] ?? ""),
            headers: res.headers,
            text,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
