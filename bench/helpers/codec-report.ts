/** Turns codec benchmark results into a console table, Markdown and a summary with ratios. */
import type { Result, Stream } from './harness.js';

export interface CodecSummary {
  stream: string;
  nativeOverTsFramer: number | null;
  tsParserOverPeer: number | null;
  tsFramerOverPeer: number | null;
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

export function formatReport(
  meta: Record<string, unknown>,
  streams: Stream[],
  results: Result[],
): { text: string; markdown: string; summary: CodecSummary[] } {
  const lines: string[] = [];
  const md: string[] = ['# Codec benchmark', '', '```json', JSON.stringify(meta, null, 2), '```', ''];
  const summary: CodecSummary[] = [];
  for (const s of streams) {
    const rows = results.filter((r) => r.stream === s.name);
    const get = (name: string): Result | undefined => rows.find((r) => r.contender === name);
    const tsFramer = get('TS framer');
    const peer = get('guacamole-common-js Parser');
    const header = `${s.name}: ${s.description} — ${fmt(s.bytes / 1e6)} MB, ${s.instructions} instructions, ${s.chunks.length} chunks`;
    lines.push('', header);
    lines.push(
      `${'contender'.padEnd(28)} ${'MB/s'.padStart(9)} ${'Minstr/s'.padStart(9)} ${'× TS framer'.padStart(12)} ${'× peer'.padStart(8)}  check`,
    );
    md.push(
      `## ${header}`,
      '',
      '| contender | MB/s | M instr/s | × TS framer | × peer | check |',
      '|---|---|---|---|---|---|',
    );
    for (const r of rows) {
      const vsTs = tsFramer ? r.mbPerSec / tsFramer.mbPerSec : Number.NaN;
      const vsPeer = peer ? r.mbPerSec / peer.mbPerSec : Number.NaN;
      lines.push(
        `${r.contender.padEnd(28)} ${fmt(r.mbPerSec).padStart(9)} ${fmt(r.instructionsPerSec / 1e6, 2).padStart(9)} ${fmt(vsTs, 2).padStart(12)} ${fmt(vsPeer, 2).padStart(8)}  ${r.check}`,
      );
      md.push(
        `| ${r.contender}${r.note ? ` (${r.note})` : ''} | ${fmt(r.mbPerSec)} | ${fmt(r.instructionsPerSec / 1e6, 2)} | ${fmt(vsTs, 2)} | ${fmt(vsPeer, 2)} | ${r.check} |`,
      );
    }
    md.push('');
    const nat = get('native framer');
    const tsParser = get('TS parser');
    summary.push({
      stream: s.name,
      nativeOverTsFramer: nat && tsFramer ? nat.mbPerSec / tsFramer.mbPerSec : null,
      tsParserOverPeer: tsParser && peer ? tsParser.mbPerSec / peer.mbPerSec : null,
      tsFramerOverPeer: tsFramer && peer ? tsFramer.mbPerSec / peer.mbPerSec : null,
    });
  }
  const image = summary.find((x) => x.stream === 'image-heavy');
  const verdict =
    image?.nativeOverTsFramer == null
      ? 'native framer not available in this run: TypeScript framer on the hot path'
      : image.nativeOverTsFramer >= 2
        ? `native framer is ${fmt(image.nativeOverTsFramer, 2)}× the TS framer on image-heavy (≥ 2×): native on the hot path`
        : `native framer is only ${fmt(image.nativeOverTsFramer, 2)}× the TS framer on image-heavy (< 2×): TypeScript on the hot path`;
  lines.push('', `verdict: ${verdict}`);
  md.push(`**Verdict:** ${verdict}`);
  return { text: lines.join('\n'), markdown: md.join('\n'), summary };
}
