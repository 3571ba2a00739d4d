// Turns an environment or flag string into the type the schema asks for at that key. A string that fits
// no type is returned unchanged so that validation reports it with the value as given.
import type { SchemaNode } from './schema-node.js';

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

function alternatives(node: SchemaNode): SchemaNode[] {
  return node.anyOf !== undefined ? node.anyOf.flatMap(alternatives) : [node];
}

export function coerce(node: SchemaNode, raw: string): unknown {
  const text = raw.trim();
  const alts = alternatives(node);
  // Enumerated strings match case-insensitively (GATEHOUSE_LOG__LEVEL=DEBUG).
  for (const alt of alts) {
    const choices = alt.enum ?? (alt.const !== undefined ? [alt.const] : []);
    const hit = choices.find((c) => typeof c === 'string' && c.toLowerCase() === text.toLowerCase());
    if (hit !== undefined) return hit;
  }
  const types = new Set(alts.map((a) => a.type));
  if (types.has('integer') && INTEGER.test(text)) return Number(text);
  if (types.has('number') && NUMBER.test(text)) return Number(text);
  if (types.has('boolean')) {
    if (TRUE.has(text.toLowerCase())) return true;
    if (FALSE.has(text.toLowerCase())) return false;
  }
  if ((types.has('array') || types.has('object')) && /^[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return raw;
    }
  }
  return raw;
}
