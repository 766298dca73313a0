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

/** One processor's clock kept up with the tasks the master hands it. */
export class ProcessorWork {
  private stage = -1;

  constructor(private readonly port: FabricPort) {}

  replied(method: MasterMethod, reply: unknown): void {
    const tasks = tasksHandedOut(method, reply);
    if (tasks.length === 0) return;
    // A stage after the first starts once the one before it has ended on every processor:
    // its input is that stage's output.
    const stage = Math.max(...tasks.map((task) => task.stage));
    if (stage > this.stage) {
      if (stage > 0) this.port.catchUp();
      this.stage = stage;
    }
    this.port.compute(mapInputBytes(tasks));
  }
}
