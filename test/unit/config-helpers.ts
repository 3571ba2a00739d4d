// Shared by the config tests: a temporary directory for config files, and a loader that captures ConfigError.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors.js';
import { type LoadOptions, loadConfig } from '../../src/config/load.js';

export function tempDir(): { dir: string; write(name: string, text: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
  return {
    dir,
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Loads with an empty environment unless one is given. */
export const load = (options: LoadOptions = {}) => loadConfig({ env: {}, ...options });

/** The ConfigError that loading throws. */
export function loadError(options: LoadOptions): ConfigError {
  try {
    load(options);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected loadConfig to throw a ConfigError');
}
