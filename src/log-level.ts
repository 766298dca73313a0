// The level of the daemons' logs, apart from log.ts so that reading MR_LOG costs the CLI no pino.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

let defaultLevel: LogLevel = 'info';

/** The level of loggers created without one from now on (the CLI sets it from MR_LOG). */
export function setLogLevel(level: LogLevel): void {
  defaultLevel = level;
}

export function logLevel(): LogLevel {
  return defaultLevel;
}

/** MR_LOG's value as a level; undefined for an unset or empty one; throws on an unknown one. */
export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const level = value.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new RangeError(`MR_LOG must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return level as LogLevel;
}
