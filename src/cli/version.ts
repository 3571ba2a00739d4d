import { readFileSync } from 'node:fs';

let version: string | undefined;

/** The version in package.json at the repository (or install) root: dist/src/cli/ → ../../../package.json. */
export function packageVersion(): string {
  version ??= (
    JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
  ).version;
  return version;
}
