// The five admin collections share one shape: GET list, POST create (201), GET one, PATCH (partial), DELETE
// (204; 409 while in use). Store conflicts (names taken, dangling ids) become 409/400 naming the field.
import { HttpError, notFound } from '../http/errors.js';
import { defineRoute, type JsonSchema, type RequestContext, type Route } from '../http/route.js';
import { StoreConflictError } from '../store/types.js';
import { errors, listOf } from './schemas.js';

export interface Collection<T, N, P> {
  /** URL segment and words: 'zones' / 'zone'. */
  plural: string;
  singular: string;
  out: JsonSchema;
  createBody: JsonSchema;
  patchBody: JsonSchema;
  list(): Promise<T[]>;
  get(id: string): Promise<T | null>;
  create(body: N, rc: RequestContext<N>): Promise<{ status?: number; json: unknown }>;
  update(id: string, body: P, rc: RequestContext<P>): Promise<T | null>;
  remove(id: string, rc: RequestContext): Promise<boolean>;
  /** Shapes an item for the answer (drop secrets). */
  view?(item: T): unknown;
  createOut?: JsonSchema;
}

export async function mapConflicts<R>(fn: () => Promise<R>): Promise<R> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreConflictError) throw new HttpError(409, 'conflict', err.message, err.field);
    throw err;
  }
}

export function crudRoutes<T, N, P>(c: Collection<T, N, P>): Route[] {
  const base = `/api/admin/${c.plural}`;
  const view = (item: T) => (c.view ? c.view(item) : item);
  return [
    defineRoute({
      method: 'GET',
      path: base,
      access: 'admin',
      tag: 'admin',
      summary: `List ${c.plural}`,
      responses: { 200: { description: `All ${c.plural}`, schema: listOf(c.out) }, ...errors(401, 403) },
      async handler() {
        return { status: 200, json: { items: (await c.list()).map(view) } };
      },
    }),
    defineRoute<N>({
      method: 'POST',
      path: base,
      access: 'admin',
      tag: 'admin',
      summary: `Create a ${c.singular}`,
      body: c.createBody,
      responses: {
        201: { description: `The new ${c.singular}`, schema: c.createOut ?? c.out },
        ...errors(400, 401, 403, 409),
      },
      async handler(rc) {
        const made = await mapConflicts(() => c.create(rc.body, rc));
        return { status: made.status ?? 201, json: made.json };
      },
    }),
    defineRoute({
      method: 'GET',
      path: `${base}/{id}`,
      access: 'admin',
      tag: 'admin',
      summary: `One ${c.singular}`,
      responses: { 200: { description: `The ${c.singular}`, schema: c.out }, ...errors(401, 403, 404) },
      async handler({ params }) {
        const item = await c.get(params.id as string);
        if (!item) throw notFound(`No such ${c.singular}`);
        return { status: 200, json: view(item) };
      },
    }),
    defineRoute<P>({
      method: 'PATCH',
      path: `${base}/{id}`,
      access: 'admin',
      tag: 'admin',
      summary: `Change a ${c.singular} (only the fields given)`,
      body: c.patchBody,
      responses: {
        200: { description: `The ${c.singular}`, schema: c.out },
        ...errors(400, 401, 403, 404, 409),
      },
      async handler(rc) {
        const item = await mapConflicts(() => c.update(rc.params.id as string, rc.body, rc));
        if (!item) throw notFound(`No such ${c.singular}`);
        return { status: 200, json: view(item) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: `${base}/{id}`,
      access: 'admin',
      tag: 'admin',
      summary: `Delete a ${c.singular}`,
      responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404, 409) },
      async handler(rc) {
        const gone = await mapConflicts(() => c.remove(rc.params.id as string, rc));
        if (!gone) throw notFound(`No such ${c.singular}`);
        return { status: 204 };
      },
    }),
  ];
}

/** A create schema's properties as an all-optional PATCH schema (at least one field). */
export function patchOf(create: JsonSchema): JsonSchema {
  const { required: _, ...rest } = create as { required?: unknown };
  return { ...rest, minProperties: 1 };
}
