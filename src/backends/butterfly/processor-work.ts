// What a processor learns of its work from the master's replies, for its simulated clock: the
// map tasks handed to it, whose input it then works through, and the start of a new stage of
// the job. (A reducer's input is charged as it reads each partition: module-output-store.ts.)
import type { MasterMethod, Task, TaskReply } from '../../wires/messages.ts';
import type { FabricPort } from './switch-fabric.ts';

/** The tasks a reply to `method` hands out, in the order they run. */
export function tasksHandedOut(method: MasterMethod, reply: unknown): Task[] {
  let next: TaskReply | null | undefined;
  if (method === 'requestTask') next = reply as TaskReply;
  else if (method === 'reportAttempt' || method === 'reportAttempts') next = (reply as { next: TaskReply | null }).next;
  if (!next?.task) return [];
  return [next.task, ...(next.moreTasks ?? [])];
}

/** Input bytes of the map tasks among `tasks`. */
export function mapInputBytes(tasks: readonly Task[]): number {
  let bytes = 0;
  for (const task of tasks) {
    if (task.kind !== 'map') continue;
    for (const split of task.splits) bytes += Math.max(0, split.end - split.start);
  }
  return bytes;
}

/** A job's stages are numbered from 1 (core/job-book.ts). */
const FIRST_STAGE = 1;

/** One processor's clock kept up with the tasks the master hands it. */
export class ProcessorWork {
  private readonly stages = new Map<string, number>();   // job -> the latest stage this processor has seen

  constructor(private readonly port: FabricPort) {}

  replied(method: MasterMethod, reply: unknown): void {
    const tasks = tasksHandedOut(method, reply);
    if (tasks.length === 0) return;
    // A stage after the first starts once the one before it has ended on every processor:
    // its input is that stage's output.
    for (const { jobId, stage } of tasks) {
      if (stage <= (this.stages.get(jobId) ?? 0)) continue;
      if (stage > FIRST_STAGE) this.port.catchUp();
      this.stages.set(jobId, stage);
    }
    this.port.compute(mapInputBytes(tasks));
  }
}
