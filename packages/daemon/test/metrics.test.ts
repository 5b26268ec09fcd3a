import { describe, expect, it } from 'vitest';
import { renderMetrics, serveMetrics } from '../src/index.js';

describe('renderMetrics', () => {
  it('groups samples with HELP/TYPE and escapes label values', () => {
    expect(
      renderMetrics([
        { name: 'metallb_speaker_announced', labels: { service: 'demo/a', ip: '192.0.2.1' }, value: 1 },
        { name: 'metallb_bgp_session_up', labels: { peer: '192.0.2.254:179' }, value: 0 },
        { name: 'metallb_speaker_announced', labels: { service: 'de"mo\\b', ip: '192.0.2.2' }, value: 1 },
        { name: 'custom_metric', labels: {}, value: Number.NaN },
      ]),
    ).toBe(
      [
        '# HELP metallb_speaker_announced Services being announced from this node',
        '# TYPE metallb_speaker_announced gauge',
        'metallb_speaker_announced{service="demo/a",ip="192.0.2.1"} 1',
        'metallb_speaker_announced{service="de\\"mo\\\\b",ip="192.0.2.2"} 1',
        '# HELP metallb_bgp_session_up BGP session state (1 is up, 0 is down)',
        '# TYPE metallb_bgp_session_up gauge',
        'metallb_bgp_session_up{peer="192.0.2.254:179"} 0',
        'custom_metric 0',
        '',
      ].join('\n'),
    );
  });
});

describe('serveMetrics', () => {
  it('serves /metrics and /healthz on loopback', async () => {
    let ready = false;
    const server = await serveMetrics(
      '127.0.0.1:0',
      () => 'x 1\n',
      () => ready,
    );
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no address');
      const base = `http://127.0.0.1:${address.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const res = await fetch(`${base}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
      expect(await res.text()).toBe('x 1\n');
      expect((await fetch(`${base}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });
});
