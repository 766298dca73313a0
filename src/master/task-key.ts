// A task of a job, as `<job>/<stage>/<index>`: how the master's own maps keep what belongs to one
// map task (its checkpoint to resume from) or one reduce task (its part's pending upload).
export type TaskKey = string;

export function taskKey(jobId: string, stage: number, index: number): TaskKey {
  return `${jobId}/${stage}/${index}`;
}

/** Whether the key is of one of the job's tasks. */
export function isOfJob(key: TaskKey, jobId: string): boolean {
  return key.startsWith(`${jobId}/`);
}
