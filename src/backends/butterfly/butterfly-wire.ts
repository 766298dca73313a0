// The butterfly backend: a shared-memory multiprocessor after the BBN Butterfly. N processors
// are worker threads (one per node) and N memory modules live in one SharedArrayBuffer heap.
// - Control crosses no socket. The task hand-out, the reports and the map/reduce barrier are
//   words of the task board in module 0, changed with Atomics (task-board.ts, stage-barrier.ts);
//   every other call (registering, heartbeats, commits) is a proto-encoded frame in a ring of
//   shared memory (shared-channel.ts, shared-rpc.ts). The master serves both on its thread.
// - Map outputs are written into the map's own module; reducers read them where they lie,
//   through the shared directory (module-output-store.ts), with no copy through messages.
// - Every touch of module memory (map outputs written, partitions and directory words read) is
//   charged as it happens on the live switch fabric (switch-fabric.ts), in shared memory next to
//   the heap; the report reads its counters when the job is over.
import { createMemoryWire } from '../../wires/memory/memory-wire.ts';
import { codecOf, encodedMasterService, type EncodedHandlers } from '../../wires/proto-codec.ts';
import {
  type SimulatedMachine, type Wire, type WireOptions, type WorkerClient,
} from '../../wires/transport.ts';
import { TransportUnavailableError } from '../../wires/unavailable.ts';
import { BoardCalls, isBoardMethod } from './board-calls.ts';
import { keepBoard, type BoardKeeper } from './board-keeper.ts';
import { modelOf, type ButterflyModel } from './butterfly-model.ts';
import { butterflyReport, type ControlCalls } from './butterfly-report.ts';
import { ModuleOutputStore } from './module-output-store.ts';
import { ProcessorWork } from './processor-work.ts';
import { ChannelReader, ChannelWriter, channelMemory } from './shared-channel.ts';
import { createHeap, type HeapMemory } from './shared-heap.ts';
import { RpcClient, serveRpc } from './shared-rpc.ts';
import { StageSync } from './stage-sync.ts';
import { createFabricMemory, fabricPort, type FabricMemory } from './switch-fabric.ts';
import { stagesOf } from './switch-network.ts';
import { createBoardMemory, stageTable, type BoardMemory } from './task-board.ts';

export const DEFAULT_NODES = 8;
/** One thread per processor: more than this many would only contend for the cores. */
export const MAX_NODES = 64;
const MIB = 1 << 20;
const HEAP_BUDGET_BYTES = 1 << 30;   // default module size: 64 MiB, or less so that the heap stays within 1 GiB

interface Channels {
  requests: SharedArrayBuffer;   // processor -> master
  replies: SharedArrayBuffer;    // master -> processor
}

/** What a processor's thread gets: the heap, the switch fabric, the task board, and the channels of its node. */
interface ProcessorData {
  heap: HeapMemory;
  fabric: FabricMemory;
  board: BoardMemory;
  node: number;
  channels: Channels;
}


export function createButterflyWire(options: WireOptions = {}): Wire {
  const nodes = options.nodes ?? DEFAULT_NODES;
  stagesOf(nodes);
  if (nodes > MAX_NODES) throw new RangeError(`a butterfly here has at most ${MAX_NODES} processors (one thread each), not ${nodes}`);
  const moduleBytes = options.tuning?.moduleMib !== undefined
    ? Math.round(options.tuning.moduleMib * MIB)
    : Math.min(64 * MIB, Math.floor(HEAP_BUDGET_BYTES / nodes));
  if (moduleBytes < 4096) throw new RangeError(`a memory module holds at least 4 KiB (--module-mib ${4096 / MIB}), not ${moduleBytes} bytes`);
  if (nodes * moduleBytes > 2 ** 32) throw new RangeError(`${nodes} modules of ${moduleBytes / MIB} MiB exceed the 4 GiB heap: use a smaller --module-mib`);
  const model = modelOf(options.tuning ?? {});
  const processor = options.threadData as ProcessorData | undefined;
  return processor ? processorSide(nodes, model, processor) : masterSide(nodes, moduleBytes, model);
}

// Chaos: the processors' calls to the master, on the task board or in the rings, go through the
// chaos layer like any (put over this wire: a lost call is tried again, and the master's request
// ids make the board's calls safe to repeat); map outputs are read from memory, where no network
// can lose them.
const capabilities = { multiHost: false, multiProcess: false, sharedMemory: true, faultInjection: true };

/** In `mr run`'s thread: the master, the heap and the channels. */
function masterSide(nodes: number, moduleBytes: number, model: ButterflyModel): Wire {
  const local = createMemoryWire(); // the main thread's own client calls its master directly
  let shared: { heap: HeapMemory; fabric: FabricMemory; board: BoardMemory; channels: Channels[] } | undefined;
  const calls: ControlCalls = { board: {}, rings: {} };
  let keeper: BoardKeeper | undefined;
  const machine: SimulatedMachine = {
    nodes,
    threads: nodes,
    threadData(hosted) {
      if (!shared) throw new Error('the butterfly master is not serving yet');
      return { heap: shared.heap, fabric: shared.fabric, board: shared.board, node: hosted[0], channels: shared.channels[hosted[0]] } satisfies ProcessorData;
    },
    report: () => butterflyReport(shared?.fabric, nodes, moduleBytes, model, { board: { ...keeper?.served }, rings: { ...calls.rings } }),
  };
  return {
    name: 'butterfly',
    capabilities,
    lossy: false,
    machine,
    async serveMaster(handlers) {
      // The heap and the fabric are allocated only now, not when options are merely checked.
      shared ??= {
        heap: createHeap(nodes, moduleBytes),
        fabric: createFabricMemory(nodes),
        board: createBoardMemory(nodes),
        channels: Array.from({ length: nodes }, () => ({ requests: channelMemory(), replies: channelMemory() })),
      };
      const rpcHandlers = encodedMasterService(handlers);
      const counted = countedCalls(rpcHandlers, calls.rings);
      const servers = shared.channels.map((c) => serveRpc(new ChannelReader(c.requests), new ChannelWriter(c.replies), counted));
      const board = keepBoard(shared.board, (method, request) => rpcHandlers[method](request));
      keeper = board;
      const direct = await local.serveMaster(handlers, '');
      return {
        address: direct.address,
        async stop() {
          board.stop();
          for (const server of servers) server.stop();
          await direct.stop();
        },
      };
    },
    serveWorker: () => Promise.reject(new Error('butterfly processors run in their own threads')),
    linkMaster: (address) => local.linkMaster(address),
    connectWorker: () => {
      throw new TransportUnavailableError('butterfly map outputs are read from shared memory, not fetched');
    },
  };
}

/** The same handlers, each call counted by method in `counts`. */
function countedCalls(rpc: EncodedHandlers, counts: Record<string, number>): EncodedHandlers {
  const counted: EncodedHandlers = {};
  for (const [method, handler] of Object.entries(rpc)) {
    counted[method] = (request) => {
      counts[method] = (counts[method] ?? 0) + 1;
      return handler(request);
    };
  }
  return counted;
}


/** In a processor's thread: calls to the master over its channels, and its memory module. */
function processorSide(nodes: number, model: ButterflyModel, data: ProcessorData): Wire {
  let rpc: RpcClient | undefined;
  const port = fabricPort(data.fabric, data.node, model);
  const work = new ProcessorWork(port);
  const board = new BoardCalls(data.board, data.node, (bytes) => port.accessBoard(bytes));
  const sync = new StageSync(stageTable(data.board), port);
  const machine: SimulatedMachine = {
    nodes,
    threads: nodes,
    threadData: () => undefined,
    report: () => butterflyReport(data.fabric, nodes, data.heap.moduleBytes, model),
    outputStore: (node, rootOf) => new ModuleOutputStore(data.heap, node, rootOf, fabricPort(data.fabric, node, model)),
  };
  return {
    name: 'butterfly',
    capabilities,
    lossy: false,
    machine,
    serveMaster: () => Promise.reject(new Error('the butterfly master runs in the main thread')),
    // Nothing to serve: reducers read this node's module themselves.
    serveWorker: () => Promise.resolve({ address: `butterfly:node-${data.node}`, stop: async () => {} }),
    linkMaster() {
      rpc ??= new RpcClient(new ChannelWriter(data.channels.requests), new ChannelReader(data.channels.replies));
      const client = rpc;
      return {
        async call(method, request, deadline) {
          const codec = codecOf('Master', method);
          const ring = (bytes: Uint8Array): Promise<Uint8Array> => client.call(method, bytes).catch((error: unknown) => {
            throw new TransportUnavailableError(`butterfly channel to the master: ${(error as Error).message}`);
          });
          const encoded = codec.encodeRequest(request);
          const reply = isBoardMethod(method) ? await board.call(method, encoded, deadline, ring) : await ring(encoded);
          const decoded = codec.decodeReply(reply);
          work.replied(method, decoded);
          await sync.replied(method, request, decoded);
          return decoded;
        },
        close: () => client.close(),
      };
    },
    connectWorker(): WorkerClient {
      throw new TransportUnavailableError('butterfly map outputs are read from shared memory, not fetched');
    },
  };
}
