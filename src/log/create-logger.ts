import { pino, type Logger, type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  readonly level: string;
  readonly format: LogFormat;
  /** Defaults to stdout (fd 1). Tests pass a stream to capture lines. */
  readonly destination?: NodeJS.WritableStream;
  /** Whether the destination is a terminal; decides `auto`. Defaults to `process.stdout.isTTY`. */
  readonly isTty?: boolean;
  readonly base?: Record<string, unknown>;
}

const levels = new Set<string>(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function isLogLevel(level: string): level is LevelWithSilent {
  return levels.has(level);
}

/**
 * The daemon's root logger: one JSON object per line for machines (and for the e2e tests, which
 * wait on the "api listening" line), pino-pretty when a human is watching a terminal.
 * Writes are synchronous so the last lines before a crash or SIGKILL are not lost in a buffer.
 */
export function createLogger(options: LoggerOptions): Logger {
  if (!isLogLevel(options.level)) {
    throw new Error(`unknown log level "${options.level}" (expected one of ${[...levels].join(', ')})`);
  }
  const isTty = options.isTty ?? process.stdout.isTTY === true;
  const usePretty = options.format === 'pretty' || (options.format === 'auto' && isTty);
  const pinoOptions = { level: options.level, base: options.base ?? { pid: process.pid } };
  if (usePretty) {
    const stream = pretty({
      colorize: isTty,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      ...(options.destination ? { destination: options.destination } : { destination: 1 }),
    });
    return pino(pinoOptions, stream);
  }
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(pinoOptions, destination);
}

/** A child logger per component, so every line says which part of the daemon wrote it. */
export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}
