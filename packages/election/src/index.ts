/**
 * @packageDocumentation
 * @ingot/election: see README.md.
 */

/** The npm package name of this module. */
export const PACKAGE_NAME = '@ingot/election';
