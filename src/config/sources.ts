// Where a configuration value came from.

export type ConfigSource =
  | { kind: 'default' }
  | { kind: 'file'; file: string; line?: number; column?: number }
  | { kind: 'env'; variable: string }
  | { kind: 'flag'; flag: string };

export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return source.line === undefined
        ? `file ${source.file}`
        : `file ${source.file}:${source.line}:${source.column ?? 1}`;
    case 'env':
      return `env ${source.variable}`;
    case 'flag':
      return `flag ${source.flag}`;
  }
}
