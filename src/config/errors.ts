// Configuration problems: each names the key, the value given, what was expected and where it came from.

export type IssueProblem = 'invalid value' | 'unknown key' | 'unreadable file' | 'unparseable file';

export interface ConfigIssue {
  /** Dotted key path, e.g. `proxy.clusterSize` ('' when the problem is the file itself). */
  path: string;
  /** The value given (for file problems: the file name). */
  value: unknown;
  /** What was expected, in words. */
  expected: string;
  /** Where the value came from: `file /etc/gatehouse.yaml:3:5`, `env GATEHOUSE_LOG__LEVEL`, `flag --log-level`. */
  source: string;
  problem: IssueProblem;
  /** Extra detail: the parse error, the OS error. */
  detail?: string;
}

const show = (value: unknown): string => (value === undefined ? 'undefined' : JSON.stringify(value));

export function formatIssue(issue: ConfigIssue): string {
  switch (issue.problem) {
    case 'unreadable file':
      return `cannot read configuration file ${issue.value} (from ${issue.source}): ${issue.detail ?? 'unknown error'}`;
    case 'unparseable file':
      return `configuration file ${issue.value} (from ${issue.source}) is not ${issue.expected}: ${issue.detail ?? 'unknown error'}`;
    case 'unknown key':
      return `${issue.path}: unknown key (from ${issue.source}); expected ${issue.expected}`;
    default:
      return `${issue.path}: invalid value ${show(issue.value)} (from ${issue.source}); expected ${issue.expected}`;
  }
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map(formatIssue);
    const fileProblem = issues.length === 1 && issues[0]!.path === '';
    super(
      fileProblem
        ? lines[0]
        : lines.length === 1
          ? `invalid configuration: ${lines[0]}`
          : `invalid configuration (${lines.length} problems):\n${lines.map((l) => `  - ${l}`).join('\n')}`,
    );
    this.issues = issues;
  }
}
