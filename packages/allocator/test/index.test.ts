import { describe, expect, it } from 'vitest';
import { PACKAGE_NAME } from '../src/index.js';

describe('@ingot/allocator', () => {
  it('exports its package name', () => {
    expect(PACKAGE_NAME).toBe('@ingot/allocator');
  });
});
