import { get } from 'node:http';

/**
 * `GET http://<address><path>` and parse the body as JSON; rejects on a non-200 status, invalid JSON, or no complete
 * answer within `timeoutMs`.
 */
export function getJson(address: string, path: string, timeoutMs = 2000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = get(`http://${address}${path}`, { timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode} from ${address}${path}`));
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(new Error(`invalid JSON from ${address}${path}: ${(err as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${address}${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
