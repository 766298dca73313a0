// What a processor learns of its work from the master's replies: the map tasks handed to it, and
// their input bytes, which it then works through on its simulated clock. (A reducer's input is
// charged as it reads each partition: module-output-store.ts.)
import type { MasterMethod, Task, TaskReply } from '../../wires/messages.ts';

/** Input bytes of the map tasks a reply to `method` hands out (0 if it hands out none). */
export function mapInputBytes(method: MasterMethod, reply: unknown): number {
  const tasks = handedOut(method, reply);
  let bytes = 0;
  for (const task of tasks) {
    if (task.kind !== 'map') continue;
    for (const split of task.splits) bytes += Math.max(0, split.end - split.start);
  }
  return bytes;
}

function handedOut(method: MasterMethod, reply: unknown): Task[] {
  let next: TaskReply | null | undefined;
  if (method === 'requestTask') next = reply as TaskReply;
  else if (method === 'reportAttempt' || method === 'reportAttempts') next = (reply as { next: TaskReply | null }).next;
  if (!next?.task) return [];
  return [next.task, ...(next.moreTasks ?? [])];
}
