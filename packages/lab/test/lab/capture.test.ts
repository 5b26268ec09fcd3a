import { existsSync, statSync } from 'node:fs';
import { expect, it } from 'vitest';
import { capture, createPair, labSuite, tsharkJson, useTopology } from '../../src/index.js';

labSuite('lab packet capture', { tools: ['ip', 'ping', 'tcpdump', 'tshark'] }, () => {
  const lab = useTopology(() => createPair({ name: 'cap' }));

  it('captures with tcpdump and decodes with tshark, including the last frames', async () => {
    const { a, b } = lab();
    const cap = capture(b, { filter: 'icmp or icmp6 or arp' });
    await cap.ready;
    await a.run('ping', ['-c', '3', '-i', '0.05', b.ipv4]);
    await a.run('ping', ['-6', '-c', '2', '-i', '0.05', b.ipv6]);
    const file = await cap.stop();
    expect(await cap.stop()).toBe(file); // idempotent
    expect(existsSync(file) && statSync(file).size).toBeGreaterThan(24);
    const requests = await tsharkJson(file, 'icmp.type == 8');
    expect(requests).toHaveLength(3);
    expect(requests[0]._source.layers.ip['ip.src']).toBe(a.ipv4);
    expect(requests[0]._source.layers.eth['eth.src']).toBe(a.mac);
    const replies6 = await tsharkJson(file, 'icmpv6.type == 129');
    expect(replies6).toHaveLength(2);
    expect(await tsharkJson(file, 'tcp')).toEqual([]);
  });

  it('tsharkJson reports a bad file with tshark stderr', async () => {
    await expect(tsharkJson('/nonexistent/ingot.pcap')).rejects.toThrow(/tshark/);
  });
});
