import { describe, expect, it } from 'vitest';
import { answerThreadMetrics } from '../src/backends/live-layer2.js';
import { renderMetrics } from '../src/metrics.js';

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
