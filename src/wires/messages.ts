// The TypeScript shape of the messages in proto/mapreduce.proto: generated from it (contract.gen.ts,
// by npm run proto), never kept by hand. Each is typed as the codec decodes it, every field present;
// what the engine sends it types the same way, giving every field (defaults included) rather than
// leaving one out, so that a field added to the proto stops tsc wherever that message is built.
// A field that is a message may be null on the wire even where the engine always sets it (a task's
// spec, a RunTask's task): the receiver checks, as it would any malformed request.
import type * as gen from './contract.gen.ts';
import type { Split } from '../core/splits.ts';
import type { Straggler } from '../core/stragglers.ts';
import type { KeysApart, NoneOf } from './type-checks.ts';

export type * from './contract.gen.ts';

// Core's own types for what crosses the wire as a proto message (core imports nothing of the
// transport): the same fields as the proto's message, so that one added on either side breaks tsc.
/** The master sends core's stragglers as they are; core's `kind` is narrower ('map' | 'reduce'). */
type StragglerChecks = [NoneOf<KeysApart<Straggler, gen.Straggler>>, NoneOf<Straggler extends gen.Straggler ? never : 'Straggler'>];
/** The master turns a split into an InputSplit (its snapshot fields default to 0: not recorded). */
type SplitChecks = NoneOf<KeysApart<Split, gen.InputSplit>>;
