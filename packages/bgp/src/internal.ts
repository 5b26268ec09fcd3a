/**
 * Everything, for the package's own tests: the published doors are `index.ts` (`@ingot/bgp`), `codec/index.ts`
 * (`@ingot/bgp/codec`), `bfd/index.ts` (`@ingot/bgp/bfd`) and `unnumbered/index.ts` (`@ingot/bgp/unnumbered`); the
 * FSM, sessions, connections, timers and socket plumbing of `speaker/` are internal. Not built, not published.
 * @module
 */

export * from './bfd/index.js';
export * from './codec/index.js';
export { PACKAGE_NAME } from './index.js';
export * from './speaker/index.js';
export * from './unnumbered/index.js';
