// The package entry: what a job module imports from 'mr'.
export { defineJob } from './core/job.ts';
export type { JobDefinition, Emit, MapContext, InputMode, CombineContext, ReduceContext, PrepareInput, JobOptions } from './core/job.ts';
export { compareKeys } from './core/key-order.ts';
export { words, countWords, sum, count, min, max } from './core/builtins.ts';
