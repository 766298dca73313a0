// Counts what crosses the master's service: each request and reply is a message, and its size is
// its proto encoding (what a wire would carry). The figures of `--report` for backends that
// have no machine model of their own (grpc, memory).
import { codecOf } from '../wires/proto-codec.ts';
import { MASTER_METHODS, type MasterService } from '../wires/transport.ts';

export interface MessageCount {
  messages: number;
  bytes: number;
}

export function countingMaster(handlers: MasterService, count: MessageCount): MasterService {
  const wrapped: Record<string, unknown> = {};
  for (const method of MASTER_METHODS) {
    const codec = codecOf('Master', method);
    const call = (handlers[method] as (request: object) => Promise<object>).bind(handlers);
    wrapped[method] = async (request: object) => {
      const reply = await call(request);
      count.messages += 2;
      count.bytes += codec.encodeRequest(request).length + codec.encodeReply(reply).length;
      return reply;
    };
  }
  return wrapped as unknown as MasterService;
}
