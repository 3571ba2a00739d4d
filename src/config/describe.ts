// Words for what a schema node accepts ("an integer from 1 to 256 or \"auto\""), used in error messages.
import type { SchemaNode } from './schema-node.js';

const quote = (v: unknown): string => JSON.stringify(v);

function range(node: SchemaNode): string {
  const { minimum: min, maximum: max } = node;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

export function describeExpected(node: SchemaNode): string {
  if (node.anyOf !== undefined) return node.anyOf.map(describeExpected).join(' or ');
  if (node.const !== undefined) return quote(node.const);
  if (node.enum !== undefined) return `one of ${node.enum.map(quote).join(', ')}`;
  switch (node.type) {
    case 'integer':
      return `an integer${range(node)}`;
    case 'number':
      return `a number${range(node)}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      if (node.pattern !== undefined && node.examples?.[0] !== undefined) {
        return `a string like ${node.examples.map(quote).join(' or ')}`;
      }
      return node.minLength ? 'a non-empty string' : 'a string';
    case 'array':
      return 'a list';
    case 'object':
      return `a mapping with keys ${Object.keys(node.properties ?? {}).join(', ')}`;
    default:
      return 'a value';
  }
}

/** Levenshtein distance; small and only used on short key names. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidate to a misspelt name, if one is close enough to be a likely typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3))) return best;
  // A fragment of a longer name ("size" for "clusterSize").
  const lower = name.toLowerCase();
  return lower.length >= 3 ? candidates.find((c) => c.toLowerCase().includes(lower)) : undefined;
}
