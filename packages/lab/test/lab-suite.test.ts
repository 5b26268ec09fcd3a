import { describe, expect, it } from 'vitest';
import { checkLab, hasTool, isCi, TOOL_PACKAGES } from '../src/index.js';
import { runChildVitest } from './child-vitest.js';

describe('labSuite prerequisites', () => {
  it('reads CI like CI systems set it', () => {
    expect(isCi({ CI: '1' })).toBe(true);
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({})).toBe(false);
    expect(isCi({ CI: '' })).toBe(false);
    expect(isCi({ CI: '0' })).toBe(false);
    expect(isCi({ CI: 'false' })).toBe(false);
  });

  it('names the apt package of every missing tool', () => {
    expect(hasTool('sh')).toBe(true);
    expect(hasTool('ingot-no-such-tool')).toBe(false);
    const c = checkLab(['ingot-no-such-tool']);
    expect(c.ok).toBe(false);
    expect(c.missingTools).toEqual(['ingot-no-such-tool']);
    expect(c.problems.join()).toContain('apt-get install ingot-no-such-tool');
    expect(TOOL_PACKAGES.vtysh).toBe('frr');
    expect(TOOL_PACKAGES.birdc).toBe('bird2');
    expect(TOOL_PACKAGES.gobgp).toBe('gobgpd');
    expect(TOOL_PACKAGES.arping).toBe('iputils-arping');
    expect(TOOL_PACKAGES.nft).toBe('nftables');
    expect(TOOL_PACKAGES.scapy).toBe('python3-scapy');
  });

  it('with CI set, a missing tool is one failing test that says what to install', async () => {
    const r = await runChildVitest('missing-tool.fixture.ts', { CI: '1' });
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/lab prerequisites/);
    expect(r.output).toMatch(/missing tools: ingot-no-such-tool/);
    expect(r.output).toMatch(/apt-get install ingot-no-such-tool/);
  }, 90_000);

  it('without CI, the suite is reported as skipped with the reason printed', async () => {
    const r = await runChildVitest('missing-tool.fixture.ts', { CI: undefined });
    expect(r.code).toBe(0);
    expect(r.output).toMatch(/\[@ingot\/lab\] skipping "needs a tool nobody has": .*ingot-no-such-tool/);
    expect(r.output).toMatch(/1 skipped/);
    expect(r.output).not.toMatch(/1 passed/);
  }, 90_000);
});
