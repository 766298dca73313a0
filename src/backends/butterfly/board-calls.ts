// A processor's calls through the task board (task-board.ts): requestTask in its task slot,
// reportAttempt(s) in its report slot, each touch charged on the switch as an access to module 0.
// Whatever the board cannot carry (a request too large, a slot still held by an abandoned call)
// goes over the processor's ring instead, as every other call does.
import { TransportUnavailableError } from '../../wires/unavailable.ts';
import { BOARD_METHODS, BoardSlot, REPORT_SLOT, TASK_SLOT, type BoardMemory, type BoardMethod, type Charge } from './task-board.ts';

export const isBoardMethod = (method: string): method is BoardMethod => (BOARD_METHODS as readonly string[]).includes(method);

type Ring = (request: Uint8Array) => Promise<Uint8Array>;

export class BoardCalls {
  private readonly slots: BoardSlot[];
  private readonly inFlight = [false, false];

  constructor(memory: BoardMemory, processor: number, private readonly charge: Charge) {
    this.slots = [new BoardSlot(memory, processor, TASK_SLOT), new BoardSlot(memory, processor, REPORT_SLOT)];
  }

  /**
   * One try of the call, answered by the reply's bytes. Past the deadline, or when the master
   * answers with a failure, a TransportUnavailableError: the call policy may try again (the
   * master's request ids make the same request asked twice get one reply).
   */
  async call(method: BoardMethod, request: Uint8Array, deadline: Date, ring: Ring): Promise<Uint8Array> {
    const kind = method === 'requestTask' ? TASK_SLOT : REPORT_SLOT;
    if (this.inFlight[kind]) return ring(request);
    this.inFlight[kind] = true;
    try {
      const slot = this.slots[kind];
      const posted = slot.post(method, request, this.charge);
      if (posted === 'closed') throw new TransportUnavailableError('the butterfly master no longer serves the task board');
      if (posted !== 'posted') return await ring(request);
      const reply = await slot.awaitReply(deadline.getTime(), this.charge);
      switch (reply.kind) {
        case 'reply': return reply.bytes;
        case 'oversize': return await ring(request);   // the same request again: the master's memo gives the same reply
        case 'failed': throw new TransportUnavailableError(`butterfly task board: ${reply.message}`);
        case 'timeout': throw new TransportUnavailableError(`butterfly task board: no reply to ${method} by its deadline`);
        case 'closed': throw new TransportUnavailableError('the butterfly master no longer serves the task board');
      }
    } finally {
      this.inFlight[kind] = false;
    }
  }
}
