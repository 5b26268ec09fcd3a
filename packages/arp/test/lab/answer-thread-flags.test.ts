// Issue 13: a program run with `node --input-type=module -e …` or `--experimental-default-type=module` (through
// NODE_OPTIONS, as a service manager would set it) still gets a working answer thread: with the child's event loop
// blocked, arping is answered at once, and answerThreadStatus() says `running`. Before, the thread died at start
// ("require is not defined in ES module scope") and the responder stayed silent while the process looked healthy.
import { createPair, type LabHost, labSuite } from '@ingot/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertBuilt, type ChildLaunch, type ResponderChild, startResponder } from './harness.js';

const VIP = '192.0.2.110';

const LAUNCHES: { name: string; launch: ChildLaunch }[] = [
  { name: 'node --input-type=module -e', launch: { evalFlags: ['--input-type=module'] } },
  {
    name: 'NODE_OPTIONS=--experimental-default-type=module',
    launch: { env: { NODE_OPTIONS: '--experimental-default-type=module' } },
  },
];

for (const { name, launch } of LAUNCHES)
  labSuite(`answer thread in a program run with ${name}`, { tools: ['arping'] }, () => {
    let pair: Awaited<ReturnType<typeof createPair>>;
    let owner: LabHost;
    let client: LabHost;
    let r: ResponderChild | undefined;

    beforeAll(async () => {
      assertBuilt();
      pair = await createPair();
      owner = pair.a;
      client = pair.b;
    });

    afterAll(async () => {
      await r?.close();
      await pair?.destroy();
    });

    it('answers ARP on the thread while the event loop is blocked', async () => {
      r = await startResponder(
        owner,
        {
          interfaces: [owner.ifname],
          scanIntervalMs: 0,
          gratuitous: false,
          transportOptions: { receiveMode: 'thread' },
        },
        launch,
      );
      await r.announce(VIP);
      expect((await r.stats()).answerThread).toMatchObject({ state: 'running', failures: 0 });
      const blocked = r.block(4000);
      await blocked.started;
      const t0 = performance.now();
      const a = await client.run('arping', ['-I', client.ifname, '-c', '2', '-w', '3', VIP]);
      const ms = performance.now() - t0;
      await blocked.done;
      expect(a).toMatch(/Received 2 response/);
      expect(ms).toBeLessThan(3900); // answered while the event loop was still stuck
    });
  });
