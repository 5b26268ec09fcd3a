/**
 * @packageDocumentation
 * @ingot/daemon: see README.md.
 */

/** The npm package name of this module. */
export const PACKAGE_NAME = '@ingot/daemon';
