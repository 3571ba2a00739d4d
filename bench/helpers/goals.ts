/** The goals part of a benchmark report (bench/tunnel, bench/webapp): each goal, what was measured, met or not. */

export interface Verdict {
  goal: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
}

/** The report's `## Goals` section: a goal | measured | met table ('–' where not measured). */
export function goalsSection(verdicts: readonly Verdict[]): string[] {
  return [
    '## Goals',
    '',
    '| goal | measured | met |',
    '| --- | ---: | :---: |',
    ...verdicts.map((v) => `| ${v.goal} | ${v.measured} | ${v.met === null ? '–' : v.met ? 'yes' : 'no'} |`),
  ];
}
