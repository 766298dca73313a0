// The hypercube backend: a message-passing multicomputer of 2^d nodes. Each node's worker runs
// the job's functions for real (in worker threads of `mr run`, node k in thread k mod T) and the
// master runs on node 0 (in the main thread). Every message of the job, task hand-outs, reports,
// heartbeats, shuffle chunks, retries, is a packet (packet.ts) that leaves its node only on a link
// to a neighbour and is received and sent on by every node of its e-cube route (router.ts); the
// timeline (timeline.ts, in the main thread) times each hop with the link model (link-model.ts,
// --preset ipsc1 or ipsc2) as the routers report them, in simulated-time order, and the report is
// what crossed the links, and when (report.ts). mr run's own calls to its master (status, logs)
// are the user's terminal, not the machine's traffic: they stay in the main thread.
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { COUNTER } from '../../core/counters.ts';
import type { JobTrace } from '../../core/job-trace.ts';
import { createMemoryWire } from '../../wires/memory/memory-wire.ts';
import { codecOf, encodedMasterService, type MethodCodec } from '../../wires/proto-codec.ts';
import type * as M from '../../wires/messages.ts';
import { MasterGate, overriding } from './master-gate.ts';
import type { MasterTimes } from './master-times.ts';
import {
  type MachineTuning, type MasterLink, type MasterService, type SimulatedMachine, type Wire, type WireOptions, type WorkerClient, type WorkerService,
} from '../../wires/transport.ts';
import { TransportUnavailableError } from '../../wires/unavailable.ts';
import { cutOffWindow } from '../../wires/chaos/chaos-fate.ts';
import { machineNodeName } from '../../wires/chaos/chaos-spec.ts';
import { pickPreset } from '../machine-presets.ts';
import { Endpoint } from './endpoint.ts';
import { FabricStats } from './fabric-stats.ts';
import { DEFAULT_LINK, LINK_PRESETS, checkLinkModel, type LinkModel } from './link-model.ts';
import { FLAG, decodePacket, idOf } from './packet.ts';
import { hypercubeReport, type HypercubeModel } from './report.ts';
import { Routers, transferOf, type RouterThreadData } from './router.ts';
import { Timeline, type TimelineRecord } from './timeline.ts';
import { dimensionsOf, ecubeRoute } from './topology.ts';

export const DEFAULT_NODES = 8;
const DEFAULT_NODE_BYTES_PER_SEC = 20e6;
const MASTER_NODE = 0;
/** The master's messages are numbered apart from node 0's worker's. */
const MASTER_SEQ = 2 ** 31;
/** How long a finished job's report waits for the workers' last requests. */
const SETTLE_MS = 2000;

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
  let machineData: { stats: FabricStats; perThread: NodeThreadData[]; timeline: Timeline; times: MasterTimes } | undefined;
  const machine: SimulatedMachine = {
    nodes,
    threads,
    threadData(hosted) {
      if (!machineData) throw new Error('the hypercube master is not serving yet');
      return machineData.perThread[hosted[0] % threads];
    },
    async report(trace: JobTrace) {
      const timeline = machineData?.timeline ?? new Timeline(nodes, dimensions, model.link);
      // The job is over, but its last answers may still be on their way to the workers, which ask
      // for more work when they get them: those requests are part of the run, whatever the threads'
      // speed, so the timeline waits for them (a node gone never settles: then, for a while).
      for (const startMs = Date.now(); !timeline.settled() && Date.now() - startMs < SETTLE_MS;) await new Promise((resolve) => setTimeout(resolve, 2));
      timeline.finish();   // time what is left
      const endUs = Math.max(0, ...(machineData?.times.reports ?? []).map((id) => timeline.reachedUs(id) ?? 0));
      return hypercubeReport(trace, machineData?.stats ?? FabricStats.create(nodes, dimensions), model, timeline, endUs);
    },
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
      const timeline = new Timeline(nodes, dimensions, model.link);
      const host = new MessageChannel();
      const records: MessageChannel[] = [];
      const perThread: NodeThreadData[] = Array.from({ length: threads }, (_, thread) => {
        const channel = new MessageChannel();
        records.push(channel);
        channel.port1.on('message', (record: TimelineRecord) => timeline.apply(record));
        channel.port1.unref();
        return { nodes, dimensions, threads, thread, stats: stats.memory, ports: {}, timelinePort: channel.port2 };
      });
      for (let a = 0; a < threads; a++) {
        for (let b = a + 1; b < threads; b++) {
          const { port1, port2 } = new MessageChannel();
          perThread[a].ports[b] = port1;
          perThread[b].ports[a] = port2;
        }
      }
      perThread[MASTER_NODE % threads].hostPort = host.port2;
      // The master serves the workers in simulated-time order (master-gate.ts).
      const gate = new MasterGate(timeline, handlers);
      machineData = { stats, perThread, timeline, times: gate.times };
      const endpoint = new Endpoint(MASTER_NODE, {
        send(bytes, timing) {
          if (timing) gate.sending(idOf(bytes));
          host.port1.postMessage({ node: MASTER_NODE, bytes, timing }, transferOf(bytes));
        },
      }, gate, MASTER_SEQ);
      endpoint.serve(encodedMasterService(gate.service()));
      host.port1.on('message', ({ bytes }: { bytes: Uint8Array }) => {
        const packet = decodePacket(bytes);
        gate.heardFrom(packet.src);
        endpoint.receive(packet);
      });
      host.port1.unref();
      // mr run's own calls (its terminal): the job it submits lets the workers' polls be served.
      const direct = await local.serveMaster(overriding(handlers, {
        async submitJob(request) {
          const reply = await handlers.submitJob(request);
          gate.submitted();
          return reply;
        },
      }), '');
      return {
        address: direct.address,
        async stop() {
          gate.stop();
          endpoint.unserve();
          host.port1.close();
          for (const channel of records) channel.port1.close();
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
    endpoint = new Endpoint(node, {
      send: (bytes, timing) => routers.inject(node, bytes, timing),
      blocked: (on) => routers.tell({ t: 'blocked', node, on }),
      open: (ready) => routers.tell({ t: 'open', node, ready }),
      answered: (request) => routers.tell({ t: 'answered', node, request }),
    });
    endpoints.set(node, endpoint);
  }
  const own = endpoint;
  const charged = new WeakMap<object, number>();   // reports sent, and the computation charged to them
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
        async call(method, request, deadline, retry = 0, copy = false) {
          // A node computes between the task it was given and its report: the report leaves when
          // its input would have been worked through (once, whatever the retries; the network's
          // duplicate of it (chaos) leaves with it, and the worker does not wait for that one).
          let plusUs = copy ? charged.get(request) ?? 0 : 0;
          if (!copy && (method === 'reportAttempt' || method === 'reportAttempts') && !charged.has(request)) {
            plusUs = computeUs(request, model.nodeBytesPerSec);
            charged.set(request, plusUs);
          }
          const codec = codecOf('Master', method);
          // Heartbeats follow real seconds: they cross the links, outside the simulated clock.
          const flags = FLAG.toMaster | (retry > 0 ? FLAG.retransmission : 0) | (method === 'heartbeat' ? FLAG.untimed : 0);
          const payload = codec.encodeRequest(request);
          const plain = withoutMeasurements(method, request);
          const measuredBytes = plain ? payload.length - codec.encodeRequest(plain).length : 0;
          const reply = await own.call(MASTER_NODE, method, payload, flags, { deadline, plusUs, measuredBytes, alongside: copy });
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

/**
 * A call to the master without what the host measured (its pid, memory and CPU time, the tasks'
 * durations): what the simulated clock times of it (Timing.measuredBytes). Undefined: nothing to leave out.
 */
function withoutMeasurements(method: string, request: object): object | undefined {
  const plainReport = (report: M.AttemptReport): M.AttemptReport => ({
    ...report,
    stats: null,
    counters: Object.fromEntries(Object.entries(report.counters ?? {}).map(([name, value]) => [name, name.startsWith('time.') ? 0 : value])),
  });
  if (method === 'registerWorker') return { ...request, pid: 0 };
  if (method === 'reportAttempt') return plainReport(request as M.AttemptReport);
  if (method === 'reportAttempts') return { ...request, reports: (request as M.AttemptReports).reports.map(plainReport) };
  return undefined;
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
