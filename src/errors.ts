// Typed errors. Each says what is wrong and what to do; the CLI maps them to exit codes in one place.

export const EXIT = { ok: 0, jobFailed: 1, usage: 2, unreachable: 3 } as const;

export class MrError extends Error {
  readonly exitCode: number = EXIT.jobFailed;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command line or bad input: nothing was submitted. */
export class UsageError extends MrError {
  override readonly exitCode = EXIT.usage;
}

export class InputNotFoundError extends UsageError {}
export class InputUnreadableError extends UsageError {}
/** Input that looks binary (or gzip under another name): refused unless the user says --binary-ok. */
export class InputNotTextError extends UsageError {}
export class OutputExistsError extends UsageError {}
export class OutputNotWritableError extends UsageError {}
/** Another run holds the claim on the output directory (see storage/output-claim.ts). */
export class OutputClaimedError extends UsageError {}
export class JobModuleError extends UsageError {}

/** A request without the right token: the caller must give the cluster's secret. */
export class AuthError extends UsageError {}

/**
 * "The other side did not answer", whatever the wire: the one failure a caller may retry or wait
 * out (see transport/unavailable.ts; gRPC says UNAVAILABLE or DEADLINE_EXCEEDED instead).
 */
export class TransportUnavailableError extends MrError {}

/** A program the run needs is not installed (etcd for ssi): the message says how to install it. */
export class MissingProgramError extends UsageError {}

/** A master's journal that cannot be read back past a torn last line: it will not guess what was committed. */
export class JournalCorruptError extends MrError {}

/** An intermediate run (a map output's partition) that ends mid-record: its bytes were cut or damaged. */
export class CorruptRunError extends MrError {}

/** The job ran and failed (a task failed past its retry limit) or was killed. */
export class JobFailedError extends MrError {
  override readonly exitCode = EXIT.jobFailed;
  /**
   * details: lines shown under the error line (what the attempt that failed the job printed);
   * resultPrinted: `mr run --json` already printed the job's result object, which says it failed.
   */
  constructor(message: string, readonly details: readonly string[] = [], readonly resultPrinted = false) {
    super(message);
  }
}

export class MasterUnreachableError extends MrError {
  override readonly exitCode = EXIT.unreachable;
}

/**
 * gRPC (@grpc/grpc-js's pick-first balancer) ends a connection error with "Resolution note: " and a
 * note that is empty unless name resolution had something to say: a label with nothing after it.
 */
const EMPTY_NOTE = /[\s.;,]*\bResolution note:\s*(?=$|[;)\]])/g;

/** One line, whatever the error: the message of an MrError, or a short description of anything else. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return text.replace(/\s*\n\s*/g, ' ').replace(EMPTY_NOTE, '').trim();
}

/** A job's own function (map, combine, reduce, partition) threw: fails that attempt. */
export class TaskError extends MrError {}

/** A reduce attempt could not fetch some map outputs: those maps must run again. */
export class FetchFailedError extends MrError {
  constructor(message: string, readonly mapTasks: number[]) {
    super(message);
  }
}
