/**
 * @packageDocumentation
 * @ingot/bgp: BGP-4 wire codec, RFC 4271 finite state machine, sessions, and a speaker. See README.md.
 */

export * from './bfd/index.js';
export * from './codec/index.js';
export * from './speaker/index.js';
export * from './unnumbered/index.js';

/** The npm package name of this module. */
export const PACKAGE_NAME = '@ingot/bgp';
