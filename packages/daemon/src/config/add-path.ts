/**
 * ADD-PATH send toward a BGPPeer (Ingot's own, opt-in with the `ingot.dev/add-path: send` annotation on the BGPPeer;
 * an annotation because MetalLB's CRD schema prunes unknown spec fields).
 * @module
 */

import type { FieldReader } from './field-reader.js';

/** The BGPPeer annotation that turns on ADD-PATH send (see BGPPeer.addPath). */
export const ADD_PATH_ANNOTATION = 'ingot.dev/add-path';

/** Reads the BGPPeer's `ingot.dev/add-path` annotation: `send` turns ADD-PATH send on; any other value is an error. */
export function readAddPath(r: FieldReader): boolean {
  const value = r.stringMap('metadata.annotations')[ADD_PATH_ANNOTATION];
  if (value === undefined) return false;
  if (value !== 'send') {
    r.fail(`metadata.annotations.${ADD_PATH_ANNOTATION}`, `must be "send", got ${JSON.stringify(value)}`);
    return false;
  }
  return true;
}
