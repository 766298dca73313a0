// Structured logs for daemons (pino): one JSON object a line, `{"level":"info","time":"<ISO>",
// "pid":…,"component":"worker",…fields,"msg":"registered"}`, on stderr or appended to a file; on a
// terminal, stderr gets readable lines instead (formatLogLine). Written synchronously (no worker
// thread, no transport), so a crash loses at most the line being written. `token` and
// `authorization` fields are redacted. The level is MR_LOG (read by the CLI: setLogLevel), else
// info. User-facing messages of the CLI do not go through here.
import { pino, type DestinationStream } from 'pino';
import { logLevel, type LogLevel } from './log-level.ts';

export { LOG_LEVELS, parseLogLevel, setLogLevel, type LogLevel } from './log-level.ts';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface LoggerOptions {
  component: string;
  level?: LogLevel;              // default: setLogLevel's, else info
  file?: string;                 // append JSON lines here instead of writing to stderr
  echo?: boolean;                // with file: stderr gets every line too (readable lines on a terminal)
}

// Field names whose values never reach a log, at the top level or one level down.
const REDACTED = ['token', 'authorization'].flatMap((k) => [k, `*.${k}`]);

/** stderr, written with fs.writeSync (sonic-boom): what job code does to process.stderr.write in an attempt never catches it. */
let stderrDestination: ReturnType<typeof pino.destination> | undefined;
function stderr(): ReturnType<typeof pino.destination> {
  stderrDestination ??= pino.destination({ fd: 2, sync: true });
  return stderrDestination;
}

// One file destination per path and process: loggers of several components may share a file.
const files = new Map<string, ReturnType<typeof pino.destination>>();
function fileDestination(path: string): ReturnType<typeof pino.destination> {
  let dest = files.get(path);
  if (!dest) {
    dest = pino.destination({ dest: path, sync: true, append: true, mkdir: true });
    files.set(path, dest);
  }
  return dest;
}

/** A stream that turns pino's JSON lines into formatLogLine's lines before they reach out. */
function readable(out: DestinationStream): DestinationStream {
  return {
    write(line: string) {
      let text: string;
      try {
        text = formatLogLine(JSON.parse(line) as Record<string, unknown>);
      } catch {
        text = line.replace(/\n$/, '');
      }
      out.write(`${text}\n`);
    },
  };
}

/** Every line to each of the destinations. */
function tee(...outs: DestinationStream[]): DestinationStream {
  return { write: (line: string) => outs.forEach((out) => out.write(line)) };
}

export function createLogger(options: LoggerOptions): Logger {
  const terminal = process.stderr.isTTY ? readable(stderr()) : stderr();
  const destination = !options.file ? terminal
    : options.echo ? tee(fileDestination(options.file), terminal) : fileDestination(options.file);
  const logger = pino({
    level: options.level ?? logLevel(),
    messageKey: 'msg',
    base: { pid: process.pid, component: options.component },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED, censor: '[redacted]' },
  }, destination);
  return {
    debug: (msg, fields) => logger.debug(fields ?? {}, msg),
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
    error: (msg, fields) => logger.error(fields ?? {}, msg),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

const SKIPPED = new Set(['time', 'level', 'component', 'msg', 'pid', 'hostname']);
const PLAIN = /^[^\s"=\\]+$/u;

function fieldValue(value: unknown): string {
  if (typeof value === 'string') return PLAIN.test(value) ? value : JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * One log record as a line for a person at a terminal:
 * `12:03:04.123 INFO  worker registered workerId=w-1 address=127.0.0.1:4000` (the time of day in
 * UTC, as in the record's ISO time; strings with spaces or quotes quoted, objects as JSON).
 */
export function formatLogLine(record: Record<string, unknown>): string {
  const time = typeof record.time === 'string' && record.time.length >= 23 ? record.time.slice(11, 23) : String(record.time ?? '');
  const level = String(record.level ?? '').toUpperCase().padEnd(5);
  const fields = Object.entries(record).filter(([key]) => !SKIPPED.has(key)).map(([key, value]) => `${key}=${fieldValue(value)}`);
  return [time, level, record.component, record.msg, ...fields].filter((part) => part !== undefined && part !== '').join(' ');
}
