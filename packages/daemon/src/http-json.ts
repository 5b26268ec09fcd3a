import { get } from 'node:http';

/** The largest body {@link getJson} reads unless told otherwise (8 MiB): a peer cannot make the reader buffer more. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Options of {@link getBody} and {@link getJson}. */
export interface GetOptions {
  /** No complete answer within this time rejects. @default 2000 */
  timeoutMs?: number;
  /** A body (or a declared content-length) larger than this rejects at once. @default {@link MAX_BODY_BYTES} */
  maxBytes?: number;
}

/** A complete HTTP 200 answer. */
export interface HttpBody {
  /** The body bytes. */
  body: Buffer;
  /** Response headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
}

/**
 * `GET http://<address><path>`: the body and headers of a 200 answer. Rejects on another status, a body over
 * `maxBytes` (the connection is closed as soon as it is exceeded), or no complete answer within `timeoutMs`.
 */
export function getBody(address: string, path: string, options: GetOptions = {}): Promise<HttpBody> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const maxBytes = options.maxBytes ?? MAX_BODY_BYTES;
  return new Promise((resolve, reject) => {
    const req = get(`http://${address}${path}`, { timeout: timeoutMs }, (res) => {
      const fail = (err: Error) => {
        reject(err);
        req.destroy();
      };
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes)
        return fail(new Error(`body from ${address}${path} larger than ${maxBytes} bytes`));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return fail(new Error(`body from ${address}${path} larger than ${maxBytes} bytes`));
        chunks.push(chunk);
      });
      res.on('error', reject);
      res.on('end', () => {
        if (size > maxBytes) return;
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode} from ${address}${path}`));
        resolve({ body: Buffer.concat(chunks), headers: res.headers });
      });
    });
    const deadline = setTimeout(
      () => req.destroy(new Error(`no answer from ${address}${path} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', () => req.destroy(new Error(`no answer from ${address}${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Parses JSON text; rejects with `invalid JSON from <where>` and the parser's message. */
export function parseJsonFrom(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`invalid JSON from ${where}: ${(err as Error).message}`);
  }
}

/**
 * `GET http://<address><path>` and parse the body as JSON; rejects on a non-200 status, invalid JSON, a body over
 * `maxBytes`, or no complete answer within `timeoutMs`.
 */
export async function getJson(address: string, path: string, options: GetOptions | number = {}): Promise<unknown> {
  const opts = typeof options === 'number' ? { timeoutMs: options } : options;
  const { body } = await getBody(address, path, opts);
  return parseJsonFrom(body.toString('utf8'), `${address}${path}`);
}
