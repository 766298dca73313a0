// The emit function a map is handed: its own module, so that the job API (job.ts) and the
// built-in operators (builtins.ts), which job.ts recognises, both name it without a cycle.

/** What map hands a key and value to; V is the job's value type (defineJob<V, R>), unknown when not given. */
export type Emit<V = unknown> = (key: string, value: V) => void;
