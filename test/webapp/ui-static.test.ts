// The web UI's static files (src/webapp/ui), checked without a server: every reference resolves under the
// webapp's layout (src/webapp/ui/** at /, dist/public — the proxy's client — at /client/) and every file is
// reached from a page, the HTML is well formed with no inline script or style, the scripts parse as ES modules
// and use no eval or HTML-string APIs (CSP and XSS), the CSS loads no web fonts, and the session page keeps
// every element the proxy's client.js needs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { describe, it } from 'node:test';
import { UI_CSP } from '../../src/webapp/http/server.js';
import { fromRoot } from '../helpers/paths.js';

const UI = fromRoot('src', 'webapp', 'ui');
const PAGES = ['index.html', 'session.html'];
const T = { timeout: 30_000 };

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [relative(UI, p).split('\\').join('/')];
  });
}

const files = walk(UI).sort();
const read = (f: string): string => readFileSync(join(UI, f), 'utf8');
const scripts = files.filter((f) => f.endsWith('.js'));

/**
 * The source of the file a URL path names, as the webapp serves them (src/webapp/http/static-files.ts:
 * dist/public/webapp at /, dist/public at /client/), or null when nothing is served there.
 */
function servedFile(urlPath: string): string | null {
  let file: string;
  if (urlPath === '/client/guacamole-common.js') {
    file = fromRoot('node_modules', 'guacamole-common-js', 'dist', 'esm', 'guacamole-common.js');
  } else if (urlPath.startsWith('/client/')) file = fromRoot('src', 'proxy', 'client', urlPath.slice(8));
  else file = join(UI, urlPath.slice(1));
  return existsSync(file) && statSync(file).isFile() ? file : null;
}

/** Root-relative URL paths a script imports (static and dynamic). */
function importsOf(f: string): string[] {
  const text = read(f);
  return [
    ...text.matchAll(/^import\s[^;]*?from\s+'([^']+)';/gm),
    ...text.matchAll(/\bimport\('([^']+)'\)/g),
  ].map((m) => {
    const spec = m[1] ?? '';
    assert.ok(/^(\.\.?\/|\/)/.test(spec), `${f}: bare import ${spec}`);
    return spec.startsWith('/') ? spec : posix.join('/', posix.dirname(f), spec);
  });
}

const VOID = new Set(['meta', 'link', 'br', 'hr', 'img', 'input', 'source', 'wbr', 'area', 'base', 'col']);

interface Tag {
  name: string;
  attrs: Map<string, string>;
}

/** A strict little HTML checker: balanced tags, quoted attributes, no duplicate ids. Returns the start tags. */
function parseHtml(text: string, file: string): Tag[] {
  const tags: Tag[] = [];
  const stack: string[] = [];
  const ids = new Set<string>();
  const body = text.replace(/<!--[\s\S]*?-->/g, '').replace(/^<!doctype html>/i, '');
  const tagRe = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g;
  let last = 0;
  for (let m = tagRe.exec(body); m; m = tagRe.exec(body)) {
    assert.doesNotMatch(body.slice(last, m.index), /[<>]/, `${file}: stray < or > before ${m[0]}`);
    last = tagRe.lastIndex;
    const name = (m[2] ?? '').toLowerCase();
    if (m[1]) {
      assert.equal(stack.pop(), name, `${file}: </${name}> closes the wrong element`);
      continue;
    }
    const attrs = new Map<string, string>();
    const rest = (m[3] ?? '').replace(/\/$/, '');
    const attrRe = /\s+([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?/gy;
    let consumed = 0;
    for (let a = attrRe.exec(rest); a; a = attrRe.exec(rest)) {
      const key = (a[1] ?? '').toLowerCase();
      assert.ok(!attrs.has(key), `${file}: <${name}> repeats ${key}`);
      attrs.set(key, a[2] ?? '');
      consumed = attrRe.lastIndex;
    }
    assert.equal(rest.slice(consumed).trim(), '', `${file}: <${name}> has unparsable attributes: ${rest}`);
    const id = attrs.get('id');
    if (id !== undefined) {
      assert.ok(!ids.has(id), `${file}: duplicate id ${id}`);
      ids.add(id);
    }
    tags.push({ name, attrs });
    if (!VOID.has(name)) stack.push(name);
  }
  assert.doesNotMatch(body.slice(last), /[<>]/, `${file}: stray < or > at the end`);
  assert.deepEqual(stack, [], `${file}: unclosed elements`);
  return tags;
}

describe('web UI static files', () => {
  it(
    'every file is reached from a page (its links and scripts, then imports); nothing is left over',
    T,
    () => {
      const reached = new Set<string>(PAGES);
      const queue: string[] = [];
      for (const page of PAGES) {
        for (const { name, attrs } of parseHtml(read(page), page)) {
          const ref = name === 'script' ? attrs.get('src') : name === 'link' ? attrs.get('href') : undefined;
          if (ref?.startsWith('/') && !ref.startsWith('/client/')) queue.push(ref.slice(1));
        }
      }
      while (queue.length > 0) {
        const f = queue.pop() as string;
        if (reached.has(f)) continue;
        reached.add(f);
        if (f.endsWith('.js'))
          for (const url of importsOf(f)) if (!url.startsWith('/client/')) queue.push(url.slice(1));
      }
      assert.deepEqual([...reached].sort(), files);
      assert.match(UI_CSP, /default-src 'self'/);
      assert.doesNotMatch(UI_CSP, /unsafe-inline|unsafe-eval/);
    },
  );

  for (const page of PAGES) {
    it(`${page}: well formed; no inline script, style or handler; every reference is served`, T, () => {
      const tags = parseHtml(read(page), page);
      assert.ok(tags.some((t) => t.name === 'html' && t.attrs.get('lang') === 'en'));
      assert.ok(tags.some((t) => t.name === 'meta' && t.attrs.get('charset') === 'utf-8'));
      assert.doesNotMatch(read(page), /<style/i);
      for (const { name, attrs } of tags) {
        for (const key of attrs.keys()) {
          assert.ok(!key.startsWith('on') && key !== 'style', `${page}: <${name} ${key}>`);
        }
        if (name === 'script') {
          assert.equal(attrs.get('type'), 'module', `${page}: scripts are modules`);
          assert.ok(attrs.get('src'), `${page}: inline script`);
        }
        const ref = attrs.get('src') ?? (name === 'link' ? attrs.get('href') : undefined);
        if (ref === undefined || ref.startsWith('data:')) continue;
        assert.ok(ref.startsWith('/'), `${page}: ${ref} must be absolute (pages are served at any depth)`);
        assert.ok(servedFile(ref), `${page}: ${ref} is not served`);
      }
      assert.match(read(page), /<\/script>\s*<\/head>/, `${page}: the script is in the head`);
    });
  }

  it('session.html keeps every element id of the proxy client page (client.js looks them up)', T, () => {
    const ids = (tags: Tag[]) => tags.map((t) => t.attrs.get('id')).filter((id) => id !== undefined);
    const client = ids(
      parseHtml(readFileSync(fromRoot('src', 'proxy', 'client', 'index.html'), 'utf8'), 'client'),
    );
    const session = ids(parseHtml(read('session.html'), 'session.html'));
    for (const id of client) assert.ok(session.includes(id), `session.html lacks #${id}`);
    const clientJs = readFileSync(fromRoot('src', 'proxy', 'client', 'client.js'), 'utf8');
    for (const [, id] of clientJs.matchAll(/\$\('([a-z-]+)'\)/g))
      assert.ok(session.includes(id ?? ''), `#${id}`);
  });

  it('scripts parse as ES modules; every import resolves to a served file', T, () => {
    for (const f of scripts) {
      const r = spawnSync(process.execPath, ['--check', join(UI, f)], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
      const urls = importsOf(f);
      assert.ok(urls.length > 0 || ['api.js', 'dom.js', 'format.js'].includes(f), `${f}: imports not found`);
      for (const url of urls) assert.ok(servedFile(url), `${f}: import ${url} is not served`);
    }
  });

  it('scripts use no eval, Function, HTML strings or inline styles', T, () => {
    const banned = [
      /\beval\s*\(/,
      /\bnew\s+Function\b/,
      /\.innerHTML\b/,
      /\.outerHTML\b/,
      /insertAdjacentHTML/,
      /document\.write/,
      /setAttribute\(\s*'style'/,
      /\.style\./,
      /setTimeout\(\s*'/,
      /javascript:/,
    ];
    for (const f of scripts) {
      for (const re of banned) assert.doesNotMatch(read(f), re, `${f} uses ${re}`);
    }
  });

  it('the stylesheets load nothing from elsewhere (no web fonts, no imports)', T, () => {
    for (const f of files.filter((x) => x.endsWith('.css'))) {
      assert.doesNotMatch(read(f), /@import|@font-face|url\(/, f);
    }
  });

  it('size: small enough to load fast', T, () => {
    const size = (list: string[]) => list.reduce((n, f) => n + statSync(join(UI, f)).size, 0);
    const js = size(scripts);
    const css = size(files.filter((f) => f.endsWith('.css')));
    process.stderr.write(`web UI: ${scripts.length} scripts ${js} B, css ${css} B (uncompressed)\n`);
    assert.ok(js < 120_000, `scripts ${js} B`);
    assert.ok(css < 16_000, `css ${css} B`);
  });

  it('controls the e2e tests use have stable test ids', T, () => {
    const all = scripts.map(read).join('\n');
    for (const id of ['login-username', 'login-password', 'login-submit', 'server-row', 'connect', 'save']) {
      assert.ok(all.includes(`'${id}'`), id);
    }
    assert.ok(dirname(UI).endsWith('webapp'));
  });
});
