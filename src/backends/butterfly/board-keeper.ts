// The master's side of the task board: a keeper in the main thread waits on the doorbell, takes
// each request posted in a slot and hands it to the master's own handler, in process; each reply
// is written into its slot as soon as its handler is done, so a long poll held for one processor
// never holds up the others' slots.
import { waitUnreffed } from './atomic-wait.ts';
import { allSlots, doorbell, type BoardMemory, type BoardMethod } from './task-board.ts';

export type BoardHandler = (method: BoardMethod, request: Uint8Array) => Promise<Uint8Array>;

export interface BoardKeeper {
  /** Calls taken from the board, by method. */
  readonly served: Partial<Record<BoardMethod, number>>;
  /** Closes every slot (processors waiting are told at once) and stops waiting on the doorbell. */
  stop(): void;
}

export function keepBoard(memory: BoardMemory, handle: BoardHandler): BoardKeeper {
  const served: Partial<Record<BoardMethod, number>> = {};
  const bell = doorbell(memory);
  const slots = allSlots(memory);
  let stopped = false;

  const scan = (): void => {
    for (const slot of slots) {
      const taken = slot.takeRequest();
      if (!taken) continue;
      served[taken.method] = (served[taken.method] ?? 0) + 1;
      void handle(taken.method, taken.request).then(
        (reply) => stopped || slot.postReply(reply),
        (error: unknown) => stopped || slot.postFailure(error instanceof Error ? error.message || error.name : String(error)),
      );
    }
  };

  const keep = async (): Promise<void> => {
    while (!stopped) {
      // Read before the scan: a ring after it ends the wait at once.
      const rung = Atomics.load(bell, 0);
      scan();
      await waitUnreffed(bell, 0, rung);
    }
  };
  void keep();

  return {
    served,
    stop() {
      if (stopped) return;
      stopped = true;
      for (const slot of slots) slot.close();
      Atomics.notify(bell, 0);
    },
  };
}
