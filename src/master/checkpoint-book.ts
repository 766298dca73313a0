// The map checkpoints the master knows of: each running attempt's latest (its worker's heartbeats
// carry it), and, for a task whose attempt moved off its node or was lost with it, the one its
// next attempt resumes from. A task that commits needs none any more.
import type * as M from '../wires/messages.ts';
import type { TaskKey } from './task-key.ts';

/** What migration saved so far: resumes handed out and the input bytes they did not read again. */
export interface ResumeFigures {
  checkpointsSeen: number;
  resumes: number;
  bytesResumed: number;
}

export class CheckpointBook {
  private readonly latest = new Map<string, { task: TaskKey; checkpoint: M.Checkpoint }>();   // by attempt id
  private readonly resumes = new Map<TaskKey, M.Checkpoint>();
  readonly figures: ResumeFigures = { checkpointsSeen: 0, resumes: 0, bytesResumed: 0 };

  /** A running attempt's latest checkpoint, as its heartbeat says; true if it is new. */
  note(attemptId: string, task: TaskKey, checkpoint: M.Checkpoint): boolean {
    const known = this.latest.get(attemptId);
    if (known && known.checkpoint.seq >= checkpoint.seq) return false;
    this.latest.set(attemptId, { task, checkpoint });
    this.figures.checkpointsSeen++;
    return true;
  }

  /** The attempt moved off its node or was lost with it: its task's next attempt resumes from its latest checkpoint (unless one got further). */
  lost(attemptId: string): void {
    const known = this.latest.get(attemptId);
    this.latest.delete(attemptId);
    if (!known) return;
    const resume = this.resumes.get(known.task);
    if (!resume || resume.bytesDone < known.checkpoint.bytesDone) this.resumes.set(known.task, known.checkpoint);
  }

  /** The attempt ended otherwise (reported, failed): its checkpoints are no one's to resume from. */
  ended(attemptId: string): void {
    this.latest.delete(attemptId);
  }

  /** Where a new attempt of the task starts: a checkpoint, or null (from the beginning). */
  resumeFor(task: TaskKey): M.Checkpoint | null {
    const resume = this.resumes.get(task);
    if (!resume) return null;
    this.figures.resumes++;
    this.figures.bytesResumed += resume.bytesDone;
    return resume;
  }

  /** The task committed. */
  done(task: TaskKey): void {
    this.resumes.delete(task);
  }
}
