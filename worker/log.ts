// The worker's log: one line per event, JSON when stdout is not a terminal (journald, docker, a log
// shipper parse it field by field), a short readable line when someone watches it on a terminal. The
// Temporal SDK's own messages go through the same logger, so a worker writes one format only.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/worker';
import { pino, stdSerializers, type Level, type Logger as PinoLogger } from 'pino';

const levels: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Tidemark's own level and the SDK's: TIDEMARK_LOG_LEVEL sets both; unset, Tidemark says INFO and the
 * SDK (chatty at INFO: every worker state change) only WARN. */
export function logLevels(value: string | undefined): { tidemark: LogLevel; sdk: LogLevel } {
  if (value === undefined || value === '') return { tidemark: 'INFO', sdk: 'WARN' };
  const level = value.toUpperCase() as LogLevel;
  if (!levels.includes(level)) {
    throw new Error(
      `TIDEMARK_LOG_LEVEL: "${value}" is not a log level; use one of ${levels.join(', ')} (or unset it for INFO)`,
    );
  }
  return { tidemark: level, sdk: level };
}

function pinoLevel(level: LogLevel): Level {
  return level.toLowerCase() as Level;
}

/** Error values (anywhere at the top level of the fields) as plain message/stack fields, so a failure
 * stays on its line instead of printing "{}" or a multi-line stack. */
export function loggableFields(meta: LogMetadata | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {}))
    fields[key] = value instanceof Error ? stdSerializers.err(value) : value;
  return fields;
}

/** A terminal gets "HH:MM:SS LEVEL message  key=value ...": the same fields, easier on the eye. */
export function readableLine(jsonLine: string): string {
  const { time, level, msg, ...fields } = JSON.parse(jsonLine) as Record<string, unknown>;
  const extra = Object.entries(fields).map(
    ([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
  return `${String(time).slice(11, 19)} ${String(level).toUpperCase().padEnd(5)} ${String(msg)}${extra.length > 0 ? `  ${extra.join(' ')}` : ''}\n`;
}

function createLogger(level: LogLevel): PinoLogger {
  // Level names ("warn"), not pino's numbers: a reader of the raw line should not need a table.
  const options = {
    level: pinoLevel(level),
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (process.stdout.isTTY) {
    return pino(options, { write: (line: string) => process.stdout.write(readableLine(line)) });
  }
  // Synchronous writes: a worker that exits on a fatal error still gets its last line out.
  return pino(options, pino.destination({ fd: 1, sync: true }));
}

let root: PinoLogger | undefined;

/** The process's logger (created on first use, at TIDEMARK_LOG_LEVEL). */
export function tidemarkLog(): PinoLogger {
  root ??= createLogger(logLevels(process.env.TIDEMARK_LOG_LEVEL).tidemark);
  return root;
}

/** The SDK's Logger interface on top of pino: one line per call, the SDK's metadata as fields. */
export function sdkLogger(level: LogLevel, options: { drop?: RegExp } = {}): Logger {
  const log = tidemarkLog().child({ source: 'temporal' }, { level: pinoLevel(level) });
  const write = (logLevel: LogLevel, message: string, meta?: LogMetadata) => {
    if (options.drop?.test(message)) return;
    log[pinoLevel(logLevel)](loggableFields(meta), message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}
