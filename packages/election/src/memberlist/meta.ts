/**
 * Ingot labels as memberlist node meta: `key=value` lines, keys in byte order, joined by `\n` (no trailing newline), so
 * an agent's meta such as `zone=a` reads as the label `zone: a` and labels cross to memberlist peers as readable text.
 * Meta that is not such lines (binary, or a line without `=`) is kept whole under the label {@link RAW_META_LABEL}.
 */
import type { Labels } from '../codec.js';
import { ConfigError } from '../errors.js';
import { ML_META_MAX } from './messages.js';

/** The label that carries meta which is not `key=value` lines (as UTF-8 text, or `base64:` and the bytes). */
export const RAW_META_LABEL = 'memberlist.meta';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The meta bytes for `labels`; empty labels give null (nil meta, as a memberlist without a delegate sends). */
export function labelsToMeta(labels: Labels): Uint8Array | null {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return null;
  if (keys.length === 1 && keys[0] === RAW_META_LABEL) {
    const v = labels[RAW_META_LABEL] ?? '';
    return v.startsWith('base64:') ? new Uint8Array(Buffer.from(v.slice(7), 'base64')) : new TextEncoder().encode(v);
  }
  return new TextEncoder().encode(keys.map((k) => `${k}=${labels[k]}`).join('\n'));
}

/** The labels for meta bytes (see the module comment). */
export function metaToLabels(meta: Uint8Array | null): Labels {
  if (!meta || meta.length === 0) return {};
  let text: string;
  try {
    text = utf8.decode(meta);
  } catch {
    return { [RAW_META_LABEL]: `base64:${Buffer.from(meta).toString('base64')}` };
  }
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0 || Object.hasOwn(out, line.slice(0, eq)) || line.slice(0, eq) === '__proto__') {
      return { [RAW_META_LABEL]: text };
    }
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** Throws ConfigError when `labels` cannot travel as memberlist meta (key with `=` or a newline, over 512 bytes). */
export function checkMetaLabels(labels: Labels): void {
  for (const [k, v] of Object.entries(labels)) {
    if (k !== RAW_META_LABEL && (k.includes('=') || k.includes('\n') || v.includes('\n'))) {
      throw new ConfigError(
        'labels',
        `label ${JSON.stringify(k)}: on the memberlist wire keys hold no '=' or newline, values no newline`,
      );
    }
  }
  const meta = labelsToMeta(labels);
  if (meta && meta.length > ML_META_MAX) {
    throw new ConfigError('labels', `labels as memberlist meta are ${meta.length} bytes, at most ${ML_META_MAX}`);
  }
}
