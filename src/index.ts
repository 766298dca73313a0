// The package entry: what a job module imports from 'mr'.
export { defineJob } from './core/job.ts';
export type { JobDefinition, Emit, MapContext, InputMode } from './core/job.ts';
