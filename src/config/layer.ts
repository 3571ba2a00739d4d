// A layer of configuration (defaults, file, environment, flags): a partial tree, where each value came from,
// and the problems found while building it.
import type { ConfigIssue } from './errors.js';
import type { ConfigSource } from './sources.js';

export type Tree = Record<string, unknown>;

export interface Layer {
  data: Tree;
  /** Source of each value set by this layer, by dotted path. */
  sources: Map<string, ConfigSource>;
  issues: ConfigIssue[];
  /** Where a key that has no entry in `sources` would be (e.g. an unknown mapping key in a file). */
  locate?: (path: readonly string[]) => ConfigSource;
}

export const emptyLayer = (): Layer => ({ data: {}, sources: new Map(), issues: [] });

export const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

export function getAt(tree: unknown, path: readonly string[]): unknown {
  let node = tree;
  for (const segment of path) {
    if (!isTree(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

export function setAt(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (isTree(next)) node = next;
    else {
      const fresh: Tree = {};
      node[segment] = fresh;
      node = fresh;
    }
  }
  node[path[path.length - 1]!] = value;
}

/** Dotted paths of the non-mapping values in a tree. */
export function valuePaths(tree: Tree, prefix: readonly string[] = []): string[][] {
  return Object.entries(tree).flatMap(([k, v]) =>
    isTree(v) ? valuePaths(v, [...prefix, k]) : [[...prefix, k]],
  );
}

/** `over` on top of `base`: mappings merge key by key, anything else replaces. */
export function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isTree(b) && isTree(v) ? deepMerge(b, v) : v;
  }
  return out;
}
