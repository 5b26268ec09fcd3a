import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('README', () => {
  it('its example is the one test/lab/readme-example.test.ts runs', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /## Example: a test that brings up FRR and checks a route\n\n```ts\n([\s\S]*?)```/.exec(
      readme,
    )?.[1];
    const test = readFileSync(new URL('./lab/readme-example.test.ts', import.meta.url), 'utf8');
    expect(example).toBeDefined();
    expect(test.slice(test.indexOf('\n') + 1)).toBe(example);
  });
});
