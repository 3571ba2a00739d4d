/**
 * The RDP engine's sanitizer runs, for sanitizers.test (which builds build-asan/ once, so nothing here
 * races that build):
 *
 * - runRdpSelftest(binary): native/rdp/test/display_selftest.cc, leak checking on;
 * - runRdpSessionTests(engine): the RDP session tests (test/e2e/rdp-native.test and rdp-engine.test:
 *   freerdp-shadow-cli on Xvfb, directly and through the proxy) in a child `node --test` with
 *   GATEHOUSE_RDP_ENGINE=<the ASan build> and leak checking on. ASan, LSan and UBSan write their reports
 *   to files in a fresh directory (log_path), so a report is found whoever started the engine (the test
 *   itself, or the proxy, which runs it as nobody and keeps only part of its stderr). Processes are
 *   found afterwards by an environment marker given to the child (and inherited by everything it
 *   starts) and by the engine's path.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipUnlessInstalled } from '../e2e/helpers/binaries.js';
import { liveProcesses } from '../e2e/helpers/proc-scan.js';
import { fromRoot } from '../helpers/paths.js';
import { type ChildResult, runChild } from './run-child.js';

/** The test files whose sessions run against the sanitizer build. */
export const RDP_SESSION_TESTS = [
  join('dist', 'test', 'e2e', 'rdp-native.test.js'),
  join('dist', 'test', 'e2e', 'rdp-native-nla.test.js'),
  join('dist', 'test', 'e2e', 'rdp-engine.test.js'),
  join('dist', 'test', 'e2e', 'rdp-clipboard-audio.test.js'),
  join('dist', 'test', 'e2e', 'rdp-copy.test.js'),
];

/** A sanitizer report in a process's output. */
export const SANITIZER_REPORT =
  /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer|SUMMARY: \w+Sanitizer/;

const PKG_CONFIG_MODULES = ['freerdp2', 'freerdp-client2', 'winpr2', 'libpng', 'libjpeg', 'libwebp'];

/** Why the RDP engine cannot be built or its session tests cannot run here, or undefined. */
export function rdpSkipReason(): string | undefined {
  const r = spawnSync('pkg-config', ['--exists', ...PKG_CONFIG_MODULES], {
    stdio: 'ignore',
    timeout: 30_000,
  });
  if (r.error || r.status !== 0) {
    return (
      `pkg-config does not find ${PKG_CONFIG_MODULES.join(' ')} (apt-get install pkg-config freerdp2-dev ` +
      'libpng-dev libjpeg62-turbo-dev libwebp-dev): gatehouse-rdp is not built'
    );
  }
  return skipUnlessInstalled(['Xvfb', 'freerdp-shadow-cli', 'winpr-hash', 'xsetroot', 'xdotool', 'xterm']);
}

/** Runs the display self-test binary with leak checking; throws with its output unless it passed cleanly. */
export function runRdpSelftest(binary: string): void {
  const r = spawnSync(binary, [], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...process.env,
      ASAN_OPTIONS: 'detect_leaks=1',
      UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
    },
  });
  const output = `${binary} exited ${r.status ?? r.signal}:\n${r.stderr}`;
  if (r.status !== 0 || !/^0 failure\(s\)$/m.test(r.stderr) || /FAIL:/.test(r.stderr))
    throw new Error(output);
  if (SANITIZER_REPORT.test(r.stderr)) throw new Error(`sanitizer report: ${output}`);
}

/** The `not ok` entries of a TAP report that failed by themselves (not through a subtest), with their YAML. */
export function tapFailures(tap: string, maxChars = 12_000): string {
  const out: string[] = [];
  let block: string[] | undefined;
  for (const line of tap.split('\n')) {
    if (/^\s*not ok \d+ /.test(line)) block = [line];
    else if (block) {
      block.push(line);
      if (/^\s*\.\.\.$/.test(line)) {
        if (!block.some((l) => /failureType: '(subtestsFailed|cancelledByParent)'/.test(l)))
          out.push(block.join('\n'));
        block = undefined;
      }
    }
  }
  return out.join('\n').slice(0, maxChars);
}

export interface SessionTestRun {
  child: ChildResult;
  /** The TAP summary of the child run: tests, pass, fail, cancelled, skipped (absent: -1). */
  counts: Record<'tests' | 'pass' | 'fail' | 'cancelled' | 'skipped', number>;
  /** Sanitizer report files the engines wrote (name and content), and sanitizer reports in the output. */
  reports: Array<{ name: string; text: string }>;
  /** Processes of the run still alive when it ended (killed since). */
  leftovers: string[];
}

/**
 * Runs RDP_SESSION_TESTS against `engine` in a child `node --test` (its own process group), bounded by
 * `timeoutMs`: past it, the child's group and everything carrying the marker are SIGKILLed.
 */
export async function runRdpSessionTests(engine: string, timeoutMs: number): Promise<SessionTestRun> {
  const reportDir = mkdtempSync(join(tmpdir(), 'gatehouse-asan-rdp-'));
  // The proxy starts engines as nobody when run as root: they must be able to create their report here.
  chmodSync(reportDir, 0o1777);
  const marker = `gatehouse-asan-rdp-${process.pid}-${Date.now()}`;
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GATEHOUSE_RDP_ENGINE: engine,
      SANITIZER_RUN_MARKER: marker,
      ASAN_OPTIONS: `detect_leaks=1:log_path=${join(reportDir, 'asan')}`,
      UBSAN_OPTIONS: `halt_on_error=1:print_stacktrace=1:log_path=${join(reportDir, 'ubsan')}`,
      // print_suppressions=0: a run whose only leak is a suppressed one (FreeRDP's rdpdr, see
      // native/rdp/src/lsan_suppressions.cc) writes no report file at all.
      LSAN_OPTIONS: `print_suppressions=0:log_path=${join(reportDir, 'lsan')}`,
    };
    // The test runner's own settings are not for the child.
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    const args = ['--test', '--test-concurrency=1', '--test-reporter=tap', ...RDP_SESSION_TESTS];
    const child = await runGroup(process.execPath, args, env, timeoutMs, marker, engine);
    const leftovers = await settle(marker, engine);
    // A file counts when it holds a report (not only a summary of suppressions used).
    const reports = readdirSync(reportDir)
      .map((name) => ({ name, text: readFileSync(join(reportDir, name), 'utf8') }))
      .filter((r) => SANITIZER_REPORT.test(r.text));
    for (const [name, text] of [
      ['child stdout', child.stdout],
      ['child stderr', child.stderr],
    ] as const) {
      const hit = SANITIZER_REPORT.exec(text);
      if (hit) reports.push({ name, text: text.slice(Math.max(0, hit.index - 500), hit.index + 8000) });
    }
    const count = (k: string): number =>
      Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(child.stdout)?.[1] ?? -1);
    const counts = {
      tests: count('tests'),
      pass: count('pass'),
      fail: count('fail'),
      cancelled: count('cancelled'),
      skipped: count('skipped'),
    };
    return { child, counts, reports, leftovers };
  } finally {
    rmSync(reportDir, { recursive: true, force: true });
  }
}

/** Live processes of the run: carrying the marker in their environment, or running the engine. */
function runProcesses(marker: string, engine: string): Array<{ pid: number; pgid: number; cmdline: string }> {
  const procs = liveProcesses() ?? [];
  return procs.filter((p) => {
    if (p.pid === process.pid) return false;
    if (p.cmdline.startsWith(engine)) return true;
    try {
      return readFileSync(`/proc/${p.pid}/environ`, 'latin1').includes(`SANITIZER_RUN_MARKER=${marker}\0`);
    } catch {
      return false; // gone, or not ours to read
    }
  });
}

function killRun(marker: string, engine: string): void {
  for (const p of runProcesses(marker, engine)) {
    for (const target of [-p.pgid, p.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

/** Waits (up to 10 s) for the run's processes to end; returns those that did not (and kills them). */
async function settle(marker: string, engine: string): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = runProcesses(marker, engine);
    if (left.length === 0) return [];
    if (Date.now() > deadline) {
      killRun(marker, engine);
      return left.map((p) => `${p.pid} ${p.cmdline}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function runGroup(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  marker: string,
  engine: string,
): Promise<ChildResult> {
  return runChild(cmd, args, {
    env,
    cwd: fromRoot(),
    timeoutMs,
    detached: true,
    onTimeout: () => killRun(marker, engine),
  });
}
