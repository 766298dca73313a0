// Type-level checks that hand-written types still match the generated contract (contract.gen.ts):
// each compiles only while they agree, and its error names what went wrong.

/** Compiles only when K is never: the names that a check found wrong. */
export type NoneOf<K extends never> = K;

/** The keys of A that B lacks, and of B that A lacks. */
export type KeysApart<A, B> = Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>;

/** Whether A and B are the same type (not merely assignable each way). */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
