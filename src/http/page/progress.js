// Progress as the page shows it: a fraction per job, stage and phase, from the master's own
// progress figures when it sends them (else done/total), and never less than the page has already
// shown for the same job, stage and phase: a bar does not go backwards, even when a task is
// retried or a worker is lost and its maps run again.

function fractionOf(value) {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : undefined;
}

/** The fraction of a stage's map or reduce phase done (0..1), as reported. */
export function phaseFraction(job, stageNumber, phase) {
  const stage = job.stages?.[stageNumber - 1];
  if (job.state === 'succeeded' || stageNumber < job.stage) return 1; // a stage behind the job is complete
  if (!stage) return 0;
  const reported = fractionOf(stage.progress?.[phase]) ??
    (stageNumber === job.stage ? fractionOf(job.progress?.[phase]) : undefined);
  if (reported !== undefined) return reported;
  const done = stage[`${phase}Done`] ?? 0;
  const total = stage[`${phase}Total`] ?? 0;
  return total > 0 ? done / total : 0;
}

/**
 * The whole job (0..1): each stage counts for an equal share, half map and half reduce; 1 only
 * once the job has succeeded (after its last reduce it still commits).
 */
export function jobFraction(job) {
  if (job.state === 'succeeded') return 1;
  const reported = fractionOf(typeof job.progress === 'number' ? job.progress : job.progress?.job);
  if (reported !== undefined) return Math.min(reported, 0.99);
  const stageCount = Math.max(1, job.stageCount ?? job.stages?.length ?? 1);
  let sum = 0;
  for (let n = 1; n <= stageCount; n++) {
    if (n > (job.stage ?? 1)) break;
    sum += (phaseFraction(job, n, 'map') + phaseFraction(job, n, 'reduce')) / 2;
  }
  return Math.min(sum / stageCount, 0.99);
}

/** What the page has shown so far, by key; show() returns the larger of the new and the shown. */
export class ShownProgress {
  #shown = new Map();

  show(key, fraction) {
    const value = Math.max(this.#shown.get(key) ?? 0, fraction);
    this.#shown.set(key, value);
    return value;
  }
}
