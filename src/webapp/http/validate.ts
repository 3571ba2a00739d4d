// ajv validators for request bodies (400 naming the failing field) and, in tests, responses.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { badRequest } from './errors.js';
import type { JsonSchema } from './route.js';

const ajv = new Ajv({ allErrors: false, strict: true, useDefaults: false, coerceTypes: false });
ajv.addKeyword('example');

const cache = new WeakMap<JsonSchema, ValidateFunction>();

function compiled(schema: JsonSchema): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

/** Dotted field path of an ajv error (`servers[0].port`, or the missing property's name). */
export function fieldOf(err: ErrorObject): string {
  const parts = err.instancePath
    .split('/')
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (err.keyword === 'required')
    parts.push(String((err.params as { missingProperty: string }).missingProperty));
  if (err.keyword === 'additionalProperties') {
    parts.push(String((err.params as { additionalProperty: string }).additionalProperty));
  }
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function wordsOf(err: ErrorObject, field: string): string {
  const name = field || 'body';
  switch (err.keyword) {
    case 'required':
      return `${name} is required`;
    case 'additionalProperties':
      return `${name} is not a known field`;
    case 'enum':
      return `${name} must be one of ${(err.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${name} ${err.message ?? 'is invalid'}`;
  }
}

/** Throws a 400 HttpError naming the first failing field. */
export function validateBody<T>(schema: JsonSchema, value: unknown): T {
  if (value === undefined) throw badRequest('A JSON body is required');
  const fn = compiled(schema);
  if (!fn(value)) {
    const err = fn.errors?.[0];
    if (!err) throw badRequest('The request body is invalid');
    const field = fieldOf(err);
    throw badRequest(wordsOf(err, field), field || undefined);
  }
  return value as T;
}

/** null when the value fits, else a description of the first mismatch (response self-checks). */
export function checkAgainst(schema: JsonSchema, value: unknown): string | null {
  const fn = compiled(schema);
  if (fn(value)) return null;
  const err = fn.errors?.[0];
  return err ? wordsOf(err, fieldOf(err)) : 'invalid';
}
