/**
 * Builds the libFuzzer target (clang, build-fuzz/) and runs it on a copy of the seed corpus for
 * GATEHOUSE_FUZZ_SECONDS (default 20). Passes when libFuzzer exits 0: no invariant violation (the target
 * aborts on one), no sanitizer report, no timeout or out-of-memory.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SEED_CORPUS_DIR, writeSeedCorpus } from '../helpers/guac-seeds.js';
import { fromRoot } from '../helpers/paths.js';
import { loadBuildScript } from './build-script.js';
import { runChild, tail } from './run-child.js';

const seconds = Math.max(1, Number(process.env.GATEHOUSE_FUZZ_SECONDS ?? 20));

test(`libFuzzer: guac_framer_fuzz runs ${seconds}s on the seed corpus without a finding`, {
  timeout: 300_000 + seconds * 1000,
  skip: process.env.GATEHOUSE_SKIP_NATIVE === '1' ? 'GATEHOUSE_SKIP_NATIVE=1' : false,
}, async () => {
  const script = await loadBuildScript();
  const built = await script.buildFuzzer({ quiet: true });
  assert.ok(built.ok, `fuzz target build failed: ${built.error}`);

  const work = mkdtempSync(join(tmpdir(), 'gatehouse-fuzz-'));
  const corpus = join(work, 'corpus');
  const artifacts = join(work, 'artifacts');
  mkdirSync(artifacts);
  try {
    writeSeedCorpus(corpus); // the golden seeds, whether or not native/fuzz/corpus/ is populated
    if (existsSync(SEED_CORPUS_DIR)) cpSync(SEED_CORPUS_DIR, corpus, { recursive: true });
    const r = await runChild(
      built.path,
      [
        `-max_total_time=${seconds}`,
        '-timeout=5',
        '-rss_limit_mb=1024',
        `-artifact_prefix=${artifacts}/`,
        '-print_final_stats=1',
        corpus,
      ],
      { cwd: fromRoot(), timeoutMs: (seconds + 120) * 1000 },
    );
    const found = readdirSync(artifacts);
    if (found.length > 0) {
      // Keep the crashing inputs: reproduce with `build-fuzz/guac_framer_fuzz .fuzz-artifacts/<file>`.
      cpSync(artifacts, fromRoot('.fuzz-artifacts'), { recursive: true });
    }
    const report = `exit ${r.status ?? r.signal}${r.timedOut ? ' (killed: over time)' : ''}; artifacts (kept in .fuzz-artifacts/): ${found.join(', ') || 'none'}\n${tail(r.stderr, 60)}`;
    assert.equal(r.status, 0, report);
    assert.deepEqual(found, [], report);
    assert.match(r.stderr, /Done \d+ runs/, report);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
