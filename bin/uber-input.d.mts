// Types of bin/uber-input.mjs, for the TypeScript sources that use it.
export const UBER_MAX_INPUT_BYTES: number;
export const UBER_MAX_INPUT_FILES: number;
export const UBER_OFF_OPTIONS: readonly string[];
export function uberOffByEnv(env: NodeJS.ProcessEnv): boolean;
export function looksUber(argv: readonly string[], env: NodeJS.ProcessEnv): boolean;
