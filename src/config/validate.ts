// Validates a configuration tree (a whole config or one layer of it) against the schema with ajv and turns
// ajv's errors into ConfigIssues. The schema has no `required` keys (defaults fill them), so a partial layer
// validates on its own and each problem can be pinned on the layer that caused it.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { closest, describeExpected } from './describe.js';
import type { ConfigIssue } from './errors.js';
import { getAt } from './layer.js';
import { configSchema } from './schema.js';
import { schemaAt } from './schema-node.js';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, strict: true }).compile(configSchema);
  return compiled;
}

const pointerToPath = (pointer: string): string[] =>
  pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));

function unknownKeyIssue(parent: string[], key: string, sourceOf: (path: string[]) => string): ConfigIssue {
  const path = [...parent, key];
  const known = Object.keys(schemaAt(configSchema, parent)?.properties ?? {});
  const guess = closest(key, known);
  const where = parent.length === 0 ? 'at the top level' : `in ${parent.join('.')}`;
  return {
    problem: 'unknown key',
    path: path.join('.'),
    value: undefined,
    expected: `one of the keys ${where}: ${known.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`,
    source: sourceOf(path),
  };
}

/**
 * Problems in `data`, one per offending key. `sourceOf` says where the value at a path came from.
 */
export function validateTree(data: unknown, sourceOf: (path: string[]) => string): ConfigIssue[] {
  const validate = validator();
  if (validate(data)) return [];
  const issues = new Map<string, ConfigIssue>();
  for (const error of (validate.errors ?? []) as ErrorObject[]) {
    const at = pointerToPath(error.instancePath);
    if (error.keyword === 'additionalProperties') {
      const key = String((error.params as { additionalProperty: string }).additionalProperty);
      const issue = unknownKeyIssue(at, key, sourceOf);
      issues.set(`unknown:${issue.path}`, issue);
      continue;
    }
    const dotted = at.join('.');
    if (issues.has(`invalid:${dotted}`)) continue; // anyOf reports one error per branch
    const node = schemaAt(configSchema, at);
    issues.set(`invalid:${dotted}`, {
      problem: 'invalid value',
      path: dotted === '' ? '(top level)' : dotted,
      value: getAt(data, at),
      expected: node ? describeExpected(node) : (error.message ?? 'a valid value'),
      source: sourceOf(at),
    });
  }
  return [...issues.values()];
}
