// The logger: pino, JSON lines by default, human-readable (pino-pretty) when log.format is pretty, or auto
// and stdout is a TTY. Both are synchronous streams in this thread (no transport worker), so nothing is
// lost when the process exits and nothing keeps it alive.
import { type DestinationStream, type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import type { LogConfig } from '../config/sections/log.js';
import { CENSOR, REDACT_PATHS } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Where records go; defaults to stdout (fd 1). */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Whether the destination is a terminal (decides log.format auto and colours); defaults to stdout's. */
  isTTY?: boolean;
}

export function usePretty(format: LogConfig['format'], isTTY: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTTY);
}

export function createLogger(
  config: { log: LogConfig },
  bindings?: Record<string, unknown>,
  options: LoggerOptions = {},
): Logger {
  const isTTY = options.isTTY ?? process.stdout.isTTY === true;
  const pretty = usePretty(config.log.format, isTTY);
  const destination = pretty
    ? PinoPretty({
        destination: options.destination ?? 1,
        sync: true,
        colorize: isTTY,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
      })
    : ((options.destination as DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: true }));
  const logger = pino(
    {
      name: 'gatehouse',
      level: config.log.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: CENSOR },
    },
    destination,
  );
  return bindings ? logger.child(bindings) : logger;
}
