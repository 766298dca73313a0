// Progress of a running job on stderr: one rewritten line on a TTY, plain lines otherwise.
import type { JobStatus } from '../transport/messages.ts';

export interface ProgressOptions {
  quiet: boolean;
  tty: boolean;
  write: (text: string) => void;
}

export class Progress {
  private last = '';
  private lastPrintMs = 0;

  constructor(private readonly options: ProgressOptions) {}

  update(status: JobStatus, nowMs = Date.now()): void {
    if (this.options.quiet) return;
    const line = describe(status);
    if (line === this.last) return;
    const phaseChanged = line.split(' map ')[0] !== this.last.split(' map ')[0];
    if (this.options.tty) {
      this.options.write(`\r\x1b[2K${line}`);
    } else if (phaseChanged || nowMs - this.lastPrintMs >= 1000 || status.state !== 'running') {
      this.options.write(`${line}\n`);
      this.lastPrintMs = nowMs;
    } else {
      return;
    }
    this.last = line;
  }

  /** Ends the progress line so later messages start on a fresh line. */
  end(): void {
    if (!this.options.quiet && this.options.tty && this.last) this.options.write('\n');
  }
}

function describe(status: JobStatus): string {
  const stage = status.stages[status.stage - 1];
  const stageText = status.stageCount > 1 ? `stage ${status.stage}/${status.stageCount} ` : '';
  if (!stage) return `mr: job ${status.jobId} ${status.state}`;
  return `mr: ${stageText}${bar(stage.mapDone + stage.reduceDone, stage.mapTotal + stage.reduceTotal)} map ${stage.mapDone}/${stage.mapTotal} reduce ${stage.reduceDone}/${stage.reduceTotal}`;
}

function bar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? width : Math.floor((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
