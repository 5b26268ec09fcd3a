import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { execCommand, LabCommandError, PollAbort, pollUntil, runCommand } from '../src/index.js';
import { wrapProcess } from '../src/lab-process.js';
import { livePids } from '../src/registry.js';

/** A Node child with IPC, outside any namespace (LabHost.fork adds only `ip netns exec NS` in front). */
function nodeChild(code: string) {
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
  return wrapProcess(child, 'node -e (test child)');
}

describe('LabProcess', () => {
  it('returns each matching message once, including ones that arrived before the wait', async () => {
    const p = nodeChild(`
      process.send({ n: 1 }); process.send({ n: 2 }); process.send({ n: 3 });
      process.on('message', (m) => { if (m === 'bye') process.exit(0); process.send({ echo: m }); });
    `);
    expect(livePids()).toContain(p.pid);
    expect((await p.waitMessage((m) => m.n >= 2)).n).toBe(2);
    expect((await p.waitMessage((m) => m.n >= 2)).n).toBe(3);
    expect((await p.waitMessage()).n).toBe(1);
    p.send('hi');
    expect(await p.waitMessage((m) => 'echo' in m)).toEqual({ echo: 'hi' });
    expect(p.messages()).toHaveLength(4);
    p.send('bye');
    expect(await p.waitExit()).toBe(0);
    expect(livePids()).not.toContain(p.pid);
  });

  it('waitOutput matches stdout or stderr; a timeout error carries stderr', async () => {
    const p = nodeChild(`console.log('hello out'); console.error('oops on stderr'); setInterval(() => {}, 1000);`);
    expect((await p.waitOutput(/hello (\w+)/))[1]).toBe('out');
    await p.waitOutput(/oops/);
    await expect(p.waitOutput(/never/, 200)).rejects.toThrow(/timed out after 200 ms[\s\S]*oops on stderr/);
    await p.stop();
    expect(p.exitCode()).toBeNull();
  });

  it('rejects waits when the process exits first', async () => {
    const p = nodeChild(`console.error('dying'); process.exit(3);`);
    await expect(p.waitMessage(() => true, 5000)).rejects.toThrow(/process ended[\s\S]*exited with 3[\s\S]*dying/);
  });

  it('stop() escalates to SIGKILL after 3 s when SIGTERM is ignored, and is idempotent', async () => {
    const p = nodeChild(`process.on('SIGTERM', () => {}); process.send('armed'); setInterval(() => {}, 1000);`);
    await p.waitMessage((m) => m === 'armed');
    const t0 = Date.now();
    await Promise.all([p.stop(), p.stop()]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
    expect(p.child.signalCode).toBe('SIGKILL');
    await p.stop();
  });

  it('stop() resumes a SIGSTOPped process so it can terminate', async () => {
    const p = nodeChild(`process.send('up'); setInterval(() => {}, 1000);`);
    await p.waitMessage((m) => m === 'up');
    p.kill('SIGSTOP');
    await p.stop();
    expect(p.child.signalCode).toBe('SIGTERM'); // not the SIGKILL that follows an unanswered SIGTERM
  });
});

describe('commands', () => {
  it('execCommand resolves with output and code, feeds stdin, and kills on timeout', async () => {
    expect(await execCommand('sh', ['-c', 'cat; echo e >&2; exit 4'], { input: 'in' })).toEqual({
      code: 4,
      stdout: 'in',
      stderr: 'e\n',
    });
    const slow = await execCommand('sleep', ['5'], { timeoutMs: 100 });
    expect(slow.code).toBeNull();
    expect(slow.stderr).toMatch(/killed after 100 ms/);
    await expect(execCommand('/nonexistent/ingot-tool', [])).rejects.toThrow(/cannot spawn/);
  });

  it('runCommand throws a LabCommandError with the command line and stderr', async () => {
    const err = await runCommand('sh', ['-c', 'echo broken >&2; exit 2']).catch((e) => e);
    expect(err).toBeInstanceOf(LabCommandError);
    expect(err.message).toMatch(/exit 2.*sh -c 'echo broken >&2; exit 2'\nbroken/s);
  });

  it('pollUntil retries, reports the last error on timeout, and stops at once on PollAbort', async () => {
    let n = 0;
    expect(
      await pollUntil(
        async () => (++n >= 3 ? n : undefined),
        2000,
        () => 'three',
        10,
      ),
    ).toBe(3);
    await expect(
      pollUntil(
        async () => {
          throw new Error('flaky');
        },
        100,
        () => 'something',
        10,
      ),
    ).rejects.toThrow(/timed out after 100 ms: something\nlast error: flaky/);
    const t0 = Date.now();
    await expect(
      pollUntil(
        async () => {
          throw new PollAbort('gone');
        },
        5000,
        () => 'x',
      ),
    ).rejects.toThrow('gone');
    expect(Date.now() - t0).toBeLessThan(4000); // well before the 5 s timeout
  });
});
