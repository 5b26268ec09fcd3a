import { Parser } from 'yaml';

/** Largest configuration text parsed (characters). A configuration of a thousand services is far below. */
export const MAX_CONFIG_CHARS = 8 * 1024 * 1024;

/**
 * Deepest nesting of YAML collections parsed. MetalLB's resources nest about eight levels; the yaml package composes
 * documents recursively, so a hostile file nested tens of thousands of levels deep (`[[[[…`, `- - - - …`) would run the
 * process to the edge of its stack, where V8 can abort the whole process instead of throwing.
 */
export const MAX_YAML_DEPTH = 64;

/** Where a text nests too deep: the 0-based document and character offset of the collection past the limit. */
export interface DepthProblem {
  /** 0-based index of the `---`-separated document. */
  document: number;
  /** Character offset of the first collection past {@link MAX_YAML_DEPTH}. */
  offset: number;
}

const COLLECTIONS = new Set(['block-map', 'block-seq', 'flow-collection']);

/**
 * Finds the first collection nested deeper than {@link MAX_YAML_DEPTH} using the yaml package's concrete syntax tree
 * (built without recursion), walked with an explicit stack. Returns undefined when the text is shallow enough.
 */
export function yamlDepthProblem(text: string): DepthProblem | undefined {
  let document = -1;
  for (const token of new Parser().parse(text)) {
    if (token.type === 'document') document++;
    const stack: [unknown, number][] = [[token, 0]];
    while (stack.length > 0) {
      const [node, depth] = stack.pop() as [unknown, number];
      if (node === null || typeof node !== 'object') continue;
      const t = node as { type?: unknown; offset?: unknown };
      const here = typeof t.type === 'string' && COLLECTIONS.has(t.type) ? depth + 1 : depth;
      if (here > MAX_YAML_DEPTH)
        return { document: Math.max(document, 0), offset: typeof t.offset === 'number' ? t.offset : 0 };
      for (const child of Object.values(node))
        if (child !== null && typeof child === 'object') stack.push([child, here]);
    }
  }
  return undefined;
}
