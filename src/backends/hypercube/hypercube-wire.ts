// The hypercube backend: a message-passing multicomputer of 2^d nodes. Each node's worker runs
// the job's functions for real (in worker threads of `mr run`, node k in thread k mod T) and the
// master runs on node 0 (in the main thread). Every message of the job, task hand-outs, reports,
// heartbeats, shuffle chunks, retries, is a packet (packet.ts) that leaves its node only on a link
// to a neighbour and is received and sent on by every node of its e-cube route (router.ts); the
// link model (link-model.ts, --preset ipsc1 or ipsc2) times each hop as it happens, and the
// report is what crossed the links (report.ts). mr run's own calls to its master (status, logs)
// are the user's terminal, not the machine's traffic: they stay in the main thread.
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { COUNTER } from '../../core/counters.ts';
import type { JobTrace } from '../../core/job-trace.ts';
import { createMemoryWire } from '../../wires/memory/memory-wire.ts';
import { codecOf, encodedMasterService, type MethodCodec } from '../../wires/proto-codec.ts';
import type * as M from '../../wires/messages.ts';
import { MasterTimes } from './master-times.ts';
import {
  type MachineTuning, type MasterLink, type MasterService, type SimulatedMachine, type Wire, type WireOptions, type WorkerClient, type WorkerService,
} from '../../wires/transport.ts';
import { TransportUnavailableError } from '../../wires/unavailable.ts';
import { cutOffWindow } from '../../wires/chaos/chaos-fate.ts';
import { machineNodeName } from '../../wires/chaos/chaos-spec.ts';
import { pickPreset } from '../machine-presets.ts';
import { Endpoint, type AnswerTimes, type SimClock } from './endpoint.ts';
import { FabricStats, HOST, NODE } from './fabric-stats.ts';
import { DEFAULT_LINK, LINK_PRESETS, checkLinkModel, type LinkModel } from './link-model.ts';
import { FLAG, decodePacket } from './packet.ts';
import { hypercubeReport, type HypercubeModel } from './report.ts';
import { Routers, transferOf, type RouterThreadData } from './router.ts';
import { dimensionsOf, ecubeRoute } from './topology.ts';

export const DEFAULT_NODES = 8;
const DEFAULT_NODE_BYTES_PER_SEC = 20e6;
const MASTER_NODE = 0;

export function hypercubeModel(tuning: MachineTuning = {}): HypercubeModel {
  const preset = pickPreset('hypercube', LINK_PRESETS, tuning.preset);
  const base = preset ?? DEFAULT_LINK;
  const link: LinkModel = {
    ...base,
    latencyUs: tuning.linkLatencyUs ?? base.latencyUs,
    bandwidthBytesPerSec: tuning.linkMbPerSec !== undefined ? tuning.linkMbPerSec * 1e6 : base.bandwidthBytesPerSec,
  };
  checkLinkModel(link);
  return { preset: tuning.preset ?? null, link, nodeBytesPerSec: tuning.nodeMbPerSec !== undefined ? tuning.nodeMbPerSec * 1e6 : DEFAULT_NODE_BYTES_PER_SEC };
}

const capabilities = { multiHost: false, multiProcess: false, sharedMemory: false, faultInjection: true };

/** What a node thread gets: its routers' share of the machine (the model it makes from the run's tuning, as the master does). */
type NodeThreadData = RouterThreadData;

export function createHypercubeWire(options: WireOptions = {}): Wire {
  const nodes = options.nodes ?? DEFAULT_NODES;
  const dimensions = dimensionsOf(nodes);
  const model = hypercubeModel(options.tuning);
  // Threads only carry the nodes' workers; more of them than cores would just contend.
  const threads = Math.min(nodes, Math.max(2, availableParallelism()));
  const data = options.threadData as NodeThreadData | undefined;
  if (data) return nodeSide(data, options.node ?? data.thread, model);
  return masterSide(nodes, dimensions, threads, model);
}

/** In `mr run`'s main thread: the master, on node 0, and the links' figures. */
function masterSide(nodes: number, dimensions: number, threads: number, model: HypercubeModel): Wire {
  const local = createMemoryWire();   // mr run's own calls to its master
  let machineData: { stats: FabricStats; perThread: NodeThreadData[] } | undefined;
  const machine: SimulatedMachine = {
    nodes,
    threads,
    threadData(hosted) {
      if (!machineData) throw new Error('the hypercube master is not serving yet');
      return machineData.perThread[hosted[0] % threads];
    },
    report: (trace: JobTrace) => hypercubeReport(trace, machineData?.stats ?? FabricStats.create(nodes, dimensions), model),
    // A thread held by a long call holds every message its routers should forward: the nodes whose
    // route to the master passes through one of its nodes are not heard from either (alive, busy).
    heldBehind: (held) => Array.from({ length: nodes }, (_, node) => node).filter((node) => ecubeRoute(node, MASTER_NODE, dimensions).some((via) => held.includes(via))),
  };
  return {
    name: 'hypercube',
    capabilities,
    lossy: false,
    machine,
    async serveMaster(handlers) {
      const stats = FabricStats.create(nodes, dimensions);
      const host = new MessageChannel();
      const perThread: NodeThreadData[] = Array.from({ length: threads }, (_, thread) => ({
        nodes, dimensions, threads, thread, model: model.link, stats: stats.memory, ports: {},
      }));
      for (let a = 0; a < threads; a++) {
        for (let b = a + 1; b < threads; b++) {
          const { port1, port2 } = new MessageChannel();
          perThread[a].ports[b] = port1;
          perThread[b].ports[a] = port2;
        }
      }
      perThread[MASTER_NODE % threads].hostPort = host.port2;
      machineData = { stats, perThread };
      const clock = simClock(stats.host, HOST.clockUs);
      const times = new MasterTimes();
      const endpoint = new Endpoint(MASTER_NODE, (bytes) => host.port1.postMessage({ node: MASTER_NODE, bytes }, transferOf(bytes)), clock, masterAnswers(times, (atUs) => {
        clock.reach(atUs);
        stats.host[HOST.lastReportUs] = times.lastReportUs;
      }));
      endpoint.serve(encodedMasterService(handlers));
      host.port1.on('message', ({ bytes }: { bytes: Uint8Array }) => endpoint.receive(decodePacket(bytes)));
      host.port1.unref();
      const direct = await local.serveMaster(handlers, '');
      return {
        address: direct.address,
        async stop() {
          endpoint.unserve();
          host.port1.close();
          await direct.stop();
        },
      };
    },
    serveWorker: () => Promise.reject(new Error('hypercube nodes run in their own threads')),
    linkMaster: (address) => local.linkMaster(address),
    connectWorker: () => {
      throw new TransportUnavailableError('the hypercube master fetches no map output');
    },
  };
}

/**
 * When node 0's answers leave (master-times.ts): reports are noted as they arrive, before the
 * master serves them; an answer that hands out tasks waits for the reports they depend on.
 * answered: the time of each answer, and the job's end so far.
 */
function masterAnswers(times: MasterTimes, answered: (atUs: number) => void): AnswerTimes {
  const tasksOf = (reply: M.TaskReply | null | undefined): M.Task[] => (reply ? [...(reply.task ? [reply.task] : []), ...reply.moreTasks] : []);
  return {
    taken(request) {
      if (request.method === 'reportAttempt') times.report([(codecOf('Master', 'reportAttempt').decodeRequest(request.payload) as M.AttemptReport).attemptId], request.timeUs);
      else if (request.method === 'reportAttempts') times.report((codecOf('Master', 'reportAttempts').decodeRequest(request.payload) as M.AttemptReports).reports.map((r) => r.attemptId), request.timeUs);
    },
    answerAt(request, reply) {
      let tasks: M.Task[] = [];
      if (reply && request.method === 'requestTask') tasks = tasksOf(codecOf('Master', 'requestTask').decodeReply(reply) as M.TaskReply);
      else if (reply && (request.method === 'reportAttempt' || request.method === 'reportAttempts')) {
        tasks = tasksOf((codecOf('Master', request.method).decodeReply(reply) as M.AttemptReportReply | M.AttemptReportsReply).next);
      }
      const at = times.answerAt(request.timeUs, tasks);
      answered(at);
      return at;
    },
  };
}

// One set of routers per thread, whichever of its nodes' transports is made first.
const routersOf = new WeakMap<NodeThreadData, { routers: Routers; endpoints: Map<number, Endpoint> }>();

function threadFabric(data: NodeThreadData): { routers: Routers; endpoints: Map<number, Endpoint> } {
  let fabric = routersOf.get(data);
  if (!fabric) {
    const endpoints = new Map<number, Endpoint>();
    const routers = new Routers(data, (node, bytes) => endpoints.get(node)?.receive(decodePacket(bytes)));
    routersOf.set(data, (fabric = { routers, endpoints }));
  }
  return fabric;
}

/** In a node thread: node `node`'s endpoint, its worker's services and its calls. */
function nodeSide(data: NodeThreadData, node: number, model: HypercubeModel): Wire {
  const { routers, endpoints } = threadFabric(data);
  let endpoint = endpoints.get(node);
  if (!endpoint) {
    const clock = simClock(routers.stats.nodes, routers.stats.node(node) + NODE.clockUs);
    endpoint = new Endpoint(node, (bytes) => routers.inject(node, bytes), clock);
    endpoints.set(node, endpoint);
  }
  const own = endpoint;
  const charged = new WeakSet<object>();
  const machine: SimulatedMachine = {
    nodes: data.nodes, threads: data.threads, threadData: () => undefined,
    report: () => {
      throw new Error('the hypercube report is made by the master');
    },
  };
  return {
    name: 'hypercube',
    capabilities,
    lossy: false,
    machine,
    serveMaster: () => Promise.reject(new Error('the hypercube master runs on node 0, in the main thread')),
    attachChaos(chaos) {
      // Every node's windows are in the one spec: a router knows which of its neighbours is cut off now.
      const { spec, epochMs } = chaos.settings;
      routers.cutOff = (k) => cutOffWindow(spec, machineNodeName(k), Date.now() - epochMs) !== undefined;
    },
    serveWorker(handlers) {
      own.serve({}, workerStreams(handlers));
      return Promise.resolve({ address: `hypercube:node-${node}`, stop: async () => own.unserve() });
    },
    linkMaster(): MasterLink {
      return {
        async call(method, request, deadline, retry = 0) {
          // A node computes between the task it was given and its report: the report leaves when
          // its input would have been worked through (once, whatever the retries).
          if ((method === 'reportAttempt' || method === 'reportAttempts') && !charged.has(request)) {
            charged.add(request);
            own.clock.reach(own.clock.now() + computeUs(request, model.nodeBytesPerSec));
          }
          const codec = codecOf('Master', method);
          const flags = FLAG.toMaster | (retry > 0 ? FLAG.retransmission : 0);
          const reply = await own.call(MASTER_NODE, method, codec.encodeRequest(request), flags, deadline);
          return codec.decodeReply(reply);
        },
        close() {},
      };
    },
    connectWorker(address): WorkerClient {
      const dst = nodeOf(address);
      const open = (method: 'fetchPartition' | 'fetchPartitions', request: object): AsyncIterable<Buffer> => {
        const codec = codecOf('Worker', method);
        return chunksOf(codec, own.stream(dst, method, codec.encodeRequest(request), FLAG.shuffle));
      };
      return {
        fetchPartition: (request) => open('fetchPartition', request),
        fetchPartitions: (request) => open('fetchPartitions', request),
        close() {},
      };
    },
  };
}

function workerStreams(handlers: WorkerService): Record<string, (payload: Uint8Array) => AsyncIterable<Uint8Array>> {
  const streams: Record<string, (payload: Uint8Array) => AsyncIterable<Uint8Array>> = {};
  for (const method of ['fetchPartition', 'fetchPartitions'] as const) {
    const serve = handlers[method];
    if (!serve) continue;
    const codec = codecOf('Worker', method);
    streams[method] = async function* (payload) {
      for await (const data of serve.call(handlers, codec.decodeRequest(payload))) yield codec.encodeReply({ data });
    };
  }
  return streams;
}

async function* chunksOf(codec: MethodCodec, payloads: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const payload of payloads) yield (codec.decodeReply(payload) as { data: Buffer }).data;
}

/** The input a report's attempts worked through: their map input and their reduce input. */
function computeUs(request: object, bytesPerSec: number): number {
  const reports = 'reports' in request ? (request.reports as { counters?: Record<string, number> }[]) : [request as { counters?: Record<string, number> }];
  let bytes = 0;
  for (const report of reports) bytes += Number(report.counters?.[COUNTER.mapInputBytes] ?? 0) + Number(report.counters?.[COUNTER.shuffleBytes] ?? 0);
  return (bytes * 1e6) / bytesPerSec;
}

function nodeOf(address: string): number {
  const match = /^hypercube:node-(\d+)$/.exec(address);
  if (!match) throw new TransportUnavailableError(`not a hypercube node address: ${address}`);
  return Number(match[1]);
}

function simClock(slots: Float64Array, at: number): SimClock {
  return { now: () => slots[at], reach: (us) => void (slots[at] = Math.max(slots[at], us)) };
}
