/**
 * @packageDocumentation
 * Test-only network lab for Ingot: see README.md.
 */

/** The name of this private workspace package. */
export const PACKAGE_NAME = '@ingot/lab';
