// `gatehouse engine` (the built CLI, dist/src/cli/main.js) as a child process on a free loopback port, for the
// end-to-end tests. Its JSON log lines are kept so tests can assert on them.
import { fromRoot } from '../../helpers/paths.js';
import { freePort, LOOPBACK, waitForPort } from './free-port.js';
import { jsonLines, ProcessGroup, pollUntil } from './processes.js';

export interface EngineProcess {
  host: string;
  port: number;
  /** The engine's log lines parsed as JSON (non-JSON lines are kept as {msg}). */
  logs(): Array<Record<string, unknown>>;
  /** Waits for a log line whose msg matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  process: ProcessGroup;
  stop(): Promise<void>;
}

export async function startGatehouseEngine(extraArgs: string[] = []): Promise<EngineProcess> {
  const port = await freePort();
  const group = new ProcessGroup(
    process.execPath,
    [fromRoot('dist/src/cli/main.js'), 'engine', '--listen', `${LOOPBACK}:${port}`, ...extraArgs],
    { env: { ...process.env, GATEHOUSE_LOG__LEVEL: 'debug', NO_COLOR: '1' } },
  );
  await waitForPort(port, 15_000, () =>
    group.hasExited ? `gatehouse engine exited:\n${group.output()}` : undefined,
  );
  const logs = (): Array<Record<string, unknown>> => jsonLines(group.output());
  return {
    host: LOOPBACK,
    port,
    logs,
    process: group,
    waitForLog: (pattern, timeoutMs = 10_000) =>
      pollUntil(
        `engine log ${pattern}`,
        () => logs().find((l) => pattern.test(String(l.msg ?? ''))),
        timeoutMs,
      ),
    stop: () => group.stop(),
  };
}
