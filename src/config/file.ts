// Reads the configuration file: JSON when the name ends in .json, YAML otherwise. Values keep their
// line and column so that problems can point into the file.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import { emptyLayer, isTree, type Layer, valuePaths } from './layer.js';
import { type ConfigSource, describeSource } from './sources.js';

export interface FileLayer extends Layer {
  /** Absolute file name. */
  file: string;
  /** Where in the file a key is (the nearest enclosing key that exists). */
  locate(path: readonly string[]): ConfigSource;
}

function keyOffset(doc: Document, path: readonly string[]): number | undefined {
  let node: unknown = doc.contents;
  let offset: number | undefined;
  for (const segment of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === segment);
    if (pair === undefined) break;
    if (isNode(pair.key)) offset = pair.key.range?.[0];
    node = pair.value;
  }
  return offset;
}

/** Line and column (1-based) of a character offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** Offset of the first character JSON.parse rejects: the shortest prefix that fails other than by ending. */
function jsonErrorOffset(text: string): number {
  const failsInside = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return false;
    } catch (err) {
      const message = (err as Error).message;
      if (/end of JSON input/.test(message)) return false;
      const at = /at position (\d+)/.exec(message);
      return at === null || Number(at[1]) < length;
    }
  };
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (failsInside(mid)) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(0, lo - 1);
}

function parseJson(text: string): { data?: unknown; error?: string } {
  try {
    return { data: JSON.parse(text) };
  } catch (err) {
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    let offset: number;
    if (at) offset = Number(at[1]);
    else if (/end of JSON input/.test(message)) offset = text.length;
    else offset = jsonErrorOffset(text);
    const clean = message
      .replace(/ in JSON at position \d+.*$/s, '')
      .replace(/, ".*" is not valid JSON$/s, '');
    const { line, column } = position(text, offset);
    return { error: `line ${line}, column ${column}: ${clean}` };
  }
}

function parseYaml(text: string): { data?: unknown; error?: string } {
  const doc = parseDocument(text);
  const first = doc.errors[0];
  if (first === undefined) return { data: doc.toJS() };
  const message = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const pos = first.linePos?.[0];
  return { error: pos ? `line ${pos.line}, column ${pos.col}: ${message}` : message };
}

/**
 * The file layer. `origin` says who named the file (`flag --config`, `env GATEHOUSE_CONFIG`); a missing,
 * unreadable or unparseable file is a problem naming the file (and the position of a parse error).
 */
export function fileLayer(name: string, cwd: string, origin: ConfigSource): FileLayer {
  const file = resolve(cwd, name);
  const base: FileLayer = { ...emptyLayer(), file, locate: () => ({ kind: 'file', file }) };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const detail = (err as Error).message.replace(/, \w+ '.*'$/, '');
    base.issues.push({
      problem: 'unreadable file',
      path: '',
      value: file,
      expected: 'a readable YAML or JSON file',
      source: describeSource(origin),
      detail,
    });
    return base;
  }
  const isJson = file.toLowerCase().endsWith('.json');
  const parsed = isJson ? parseJson(text) : parseYaml(text);
  if (parsed.error !== undefined) {
    base.issues.push({
      problem: 'unparseable file',
      path: '',
      value: file,
      expected: isJson ? 'valid JSON' : 'valid YAML',
      source: describeSource(origin),
      detail: parsed.error,
    });
    return base;
  }
  const data = parsed.data ?? {};
  if (!isTree(data)) {
    base.issues.push({
      problem: 'invalid value',
      path: '(top level)',
      value: data,
      expected: 'a mapping of sections (log, codec, proxy, ...)',
      source: describeSource({ kind: 'file', file }),
    });
    return base;
  }

  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const locate = (path: readonly string[]): ConfigSource => {
    const offset = keyOffset(doc, path);
    if (offset === undefined) return { kind: 'file', file };
    const { line, col } = lines.linePos(offset);
    return { kind: 'file', file, line, column: col };
  };
  const layer: FileLayer = { ...base, data, locate };
  for (const path of valuePaths(data)) layer.sources.set(path.join('.'), locate(path));
  return layer;
}
