import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { answerThreadMetrics, layer2ReadyNotes } from '../src/backends/live-layer2.js';
import { renderMetrics, serveStatus } from '../src/metrics.js';

describe('answer thread health metrics', () => {
  it('up 1 while it runs, 0 once it failed, with the failure count', () => {
    expect(renderMetrics(answerThreadMetrics({ state: 'running', failures: 0 }))).toBe(
      [
        '# HELP ingot_layer2_answer_thread_up Whether the ARP/NDP answer thread runs (0: failed, the event loop answers)',
        '# TYPE ingot_layer2_answer_thread_up gauge',
        'ingot_layer2_answer_thread_up 1',
        '# HELP ingot_layer2_answer_thread_failures_total Times the ARP/NDP answer thread failed to start or died',
        '# TYPE ingot_layer2_answer_thread_failures_total counter',
        'ingot_layer2_answer_thread_failures_total 0',
        '',
      ].join('\n'),
    );
    const failed = renderMetrics(answerThreadMetrics({ state: 'failed', failures: 2, lastError: 'exit 1' }));
    expect(failed).toContain('ingot_layer2_answer_thread_up 0\n');
    expect(failed).toContain('ingot_layer2_answer_thread_failures_total 2\n');
  });
});

describe('/readyz says when the event loop answers', () => {
  it('adds a line naming the failure once the answer thread failed, none while it runs', async () => {
    const failed = { answering: 'event-loop', answerThread: { state: 'failed', failures: 1, lastError: 'exit 1' } };
    const running = { answering: 'answer-thread', answerThread: { state: 'running', failures: 0 } };
    expect(layer2ReadyNotes(running)).toEqual([]);
    expect(layer2ReadyNotes(undefined)).toEqual([]);
    expect(layer2ReadyNotes({})).toEqual([]);
    let status: object = running;
    const server = await serveStatus('127.0.0.1:0', {
      metrics: () => '',
      healthy: () => true,
      readyNotes: () => layer2ReadyNotes(status),
    });
    try {
      const port = (server.address() as AddressInfo).port;
      const readyz = async () => {
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        return [res.status, await res.text()];
      };
      expect(await readyz()).toEqual([200, 'ok\n']);
      status = failed;
      expect(await readyz()).toEqual([
        200,
        'ok\nlayer2: answer thread failed (exit 1); ARP and NDP are answered on the event loop\n',
      ]);
    } finally {
      server.close();
    }
  });
});
