import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeAccess } from '../../src/kubernetes/kube-access.js';
import { KubeHttp } from '../../src/kubernetes/kube-http.js';
import { JsonListWatch } from '../../src/kubernetes/kube-list-watch.js';
import type { KubeObject } from '../../src/kubernetes/kube-objects.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A server whose watch answers are written by the test through `watches`. */
async function watchServer() {
  const watches: { url: string; res: http.ServerResponse }[] = [];
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    watches.push({ url: req.url ?? '', res });
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  return { http: new KubeHttp(new KubeAccess({ server: `http://127.0.0.1:${port}` })), watches };
}

const obj = (name: string, rv: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('JsonListWatch', () => {
  it('lists, watches from the snapshot, skips lines that are not JSON, and resumes from the last event', async () => {
    const { http: client, watches } = await watchServer();
    const seen: string[] = [];
    const lw = new JsonListWatch({
      path: '/api/v1/services',
      http: client,
      list: async () => ({ items: [obj('a', '5')], metadata: { resourceVersion: '7' } }),
      timeoutSeconds: () => 300,
    });
    for (const verb of ['add', 'update', 'delete'] as const)
      lw.on(verb, (o) => seen.push(`${verb} ${o.metadata?.name}`));
    const errors: unknown[] = [];
    lw.on('error', (e) => errors.push(e));
    await lw.start();
    await until('watch', () => watches.length === 1);
    const q = new URL(watches[0]?.url ?? '', 'http://x').searchParams;
    expect(q.get('watch')).toBe('true');
    expect(q.get('resourceVersion')).toBe('7');
    expect(q.get('allowWatchBookmarks')).toBe('true');
    const w = watches[0]?.res as http.ServerResponse;
    // A line split across chunks, a line that is not JSON, an unchanged version, a change, a deletion.
    const add = line('ADDED', obj('b', '8'));
    w.write(add.slice(0, 10));
    w.write(`${add.slice(10)}not json\n${line('MODIFIED', obj('a', '5'))}`);
    w.write(
      line('MODIFIED', obj('a', '9')) +
        line('DELETED', obj('b', '10')) +
        line('BOOKMARK', { metadata: { resourceVersion: '12' } }),
    );
    await until('events', () => seen.length === 4);
    expect(seen).toEqual(['add a', 'add b', 'update a', 'delete b']);
    expect(lw.list().map((o) => o.metadata?.name)).toEqual(['a']);
    w.end();
    await until('resumed', () => watches.length === 2);
    expect(new URL(watches[1]?.url ?? '', 'http://x').searchParams.get('resourceVersion')).toBe('12');
    expect(errors).toEqual([]);
    await lw.stop();
  });

  it('lists again after a 410 ERROR event, reporting what vanished meanwhile', async () => {
    const { http: client, watches } = await watchServer();
    let lists = 0;
    const lw = new JsonListWatch({
      path: '/api/v1/services',
      http: client,
      list: async () => {
        lists++;
        return lists === 1
          ? { items: [obj('a', '5'), obj('b', '5')], metadata: { resourceVersion: '5' } }
          : { items: [obj('a', '5')], metadata: { resourceVersion: '40' } };
      },
      timeoutSeconds: () => 300,
    });
    const deleted: string[] = [];
    lw.on('delete', (o) => deleted.push(o.metadata?.name ?? ''));
    await lw.start();
    await until('watch', () => watches.length === 1);
    watches[0]?.res.end(line('ERROR', { kind: 'Status', code: 410 }));
    await until('re-watch', () => watches.length === 2);
    expect(lists).toBe(2);
    expect(deleted).toEqual(['b']);
    expect(new URL(watches[1]?.url ?? '', 'http://x').searchParams.get('resourceVersion')).toBe('40');
    await lw.stop();
  });

  it('aborts a watch silent past its timeout and reports it, so the caller retries', async () => {
    const { http: client, watches } = await watchServer();
    const lw = new JsonListWatch({
      path: '/api/v1/services',
      http: client,
      list: async () => ({ items: [], metadata: { resourceVersion: '1' } }),
      timeoutSeconds: () => 0,
      guardSeconds: 0.2,
    });
    const errors: unknown[] = [];
    lw.on('error', (e) => errors.push(e));
    await lw.start();
    await until('aborted', () => errors.length === 1);
    expect(String(errors[0])).toContain('aborted');
    expect(watches).toHaveLength(1);
    await lw.stop();
  });
});
