// The subset of JSON Schema the configuration uses, and the few walks the loader needs over it.

export interface SchemaNode {
  type?: 'object' | 'string' | 'integer' | 'number' | 'boolean' | 'array';
  description?: string;
  default?: unknown;
  enum?: readonly unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  /** A regular expression (ajv `pattern`); describe.ts words it with `examples`. */
  pattern?: string;
  examples?: readonly unknown[];
  anyOf?: readonly SchemaNode[];
  properties?: Readonly<Record<string, SchemaNode>>;
  additionalProperties?: boolean;
  items?: SchemaNode;
}

export const isSection = (node: SchemaNode): boolean =>
  node.type === 'object' && node.properties !== undefined;

/** The schema node at a dotted path, or undefined when the path names no key. */
export function schemaAt(root: SchemaNode, path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const segment of path) {
    if (node?.properties === undefined || !Object.hasOwn(node.properties, segment)) return undefined;
    node = node.properties[segment];
  }
  return node;
}

/** Dotted paths of every settable key (leaves: anything that is not a section), in schema order. */
export function leafPaths(root: SchemaNode, prefix: readonly string[] = []): string[][] {
  const out: string[][] = [];
  for (const [name, child] of Object.entries(root.properties ?? {})) {
    const path = [...prefix, name];
    if (isSection(child)) out.push(...leafPaths(child, path));
    else out.push(path);
  }
  return out;
}

/** The complete configuration made of every key's `default`. */
export function defaultsOf(root: SchemaNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(root.properties ?? {})) {
    out[name] = isSection(child) ? defaultsOf(child) : child.default;
  }
  return out;
}
