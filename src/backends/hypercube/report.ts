// The hypercube's figures for a job: what crossed its links as the job ran (fabric-stats.ts),
// summed up, and when, by the timeline (timeline.ts). Traffic is split into control (the master's calls: hand-outs, reports, heartbeats)
// and shuffle (reducers fetching map outputs: requests, chunks, ends).
import type { JobTrace } from '../../core/job-trace.ts';
import type { BackendReport } from '../../wires/transport.ts';
import { FabricStats, LINK, NODE } from './fabric-stats.ts';
import type { LinkModel } from './link-model.ts';
import type { Timeline } from './timeline.ts';

export interface HypercubeModel {
  preset: string | null;
  link: LinkModel;
  /** How fast a node works through a task's input (map input, reduce input), bytes per second. */
  nodeBytesPerSec: number;
}

const ms = (us: number): number => Math.round(us) / 1000;
const mean = (sum: number, count: number): number => (count > 0 ? Math.round((sum / count) * 1000) / 1000 : 0);

/** endUs: the job's end on the simulated clock (its last report at the master), once the timeline has timed everything. */
export function hypercubeReport(trace: JobTrace, stats: FabricStats, model: HypercubeModel, timeline: Timeline, endUs: number): BackendReport {
  const { nodeCount: nodes, dimensions: d } = stats;
  const sum = (field: number): number => {
    let total = 0;
    for (let node = 0; node < nodes; node++) total += stats.nodes[stats.node(node) + field];
    return total;
  };
  const control = { messages: sum(NODE.controlMessages), bytes: sum(NODE.controlBytes), hops: sum(NODE.controlHops) };
  const shuffle = { messages: sum(NODE.shuffleMessages), bytes: sum(NODE.shuffleBytes), hops: sum(NODE.shuffleHops) };
  let maxHops = 0;
  let firstShuffleUs = Infinity;
  let lastShuffleUs = 0;
  for (let node = 0; node < nodes; node++) {
    maxHops = Math.max(maxHops, stats.nodes[stats.node(node) + NODE.maxHops]);
    firstShuffleUs = Math.min(firstShuffleUs, timeline.shuffleFirstUs[node]);
    lastShuffleUs = Math.max(lastShuffleUs, timeline.shuffleLastUs[node]);
  }
  const links: { from: number; to: number; bytes: number; busyMs: number; messages: number; shuffleBytes: number }[] = [];
  let bisectionBytes = 0;
  const bisectionLinks = new Set<number>();
  for (let node = 0; node < nodes; node++) {
    for (let k = 0; k < d; k++) {
      const at = stats.link(node, k);
      const bytes = stats.links[at + LINK.bytes];
      if (bytes === 0) continue;
      const busyUs = timeline.links.get(node * d + k)?.busyUs ?? 0;
      links.push({ from: node, to: node ^ (1 << k), bytes, busyMs: ms(busyUs), messages: stats.links[at + LINK.messages], shuffleBytes: stats.links[at + LINK.shuffleBytes] });
      if (k === d - 1) {
        bisectionBytes += bytes;
        bisectionLinks.add(Math.min(node, node ^ (1 << k)));
      }
    }
  }
  links.sort((a, b) => a.from - b.from || a.to - b.to);
  const hottest = links.reduce<(typeof links)[number] | undefined>((best, l) => (!best || l.bytes > best.bytes ? l : best), undefined);
  const busy = links.map((l) => l.busyMs);
  const fetches = sum(NODE.fetchRequests);
  const fetchHops = sum(NODE.fetchRequestHops);
  // Every (map, reducer) pair of every stage: a pair on one node reads its map output where it lies (0 hops, no message).
  const pairs = trace.stages.reduce((total, stage) => total + stage.maps.length * stage.reduces.length, 0);
  const simulatedUs = Math.max(endUs, 0);
  return {
    name: 'hypercube',
    nodes,
    dimensions: d,
    preset: model.preset,
    switching: model.link.switching,
    messages: control.messages + shuffle.messages,
    bytes: control.bytes + shuffle.bytes,
    simulatedMs: ms(simulatedUs),
    meanHops: mean(control.hops + shuffle.hops, control.messages + shuffle.messages),
    maxHops,
    forwarded: sum(NODE.forwarded),
    retransmissions: sum(NODE.retransmissions),
    refused: sum(NODE.refused),
    untimedMessages: sum(NODE.untimed),
    control: { messages: control.messages, bytes: control.bytes, meanHops: mean(control.hops, control.messages) },
    shuffle: {
      messages: shuffle.messages,
      bytes: shuffle.bytes,
      meanHops: mean(shuffle.hops, shuffle.messages),
      fetches,
      fetchMeanHops: mean(fetchHops, fetches),
      pairs,
      pairMeanHops: mean(fetchHops, pairs),
      simulatedMs: lastShuffleUs > firstShuffleUs ? ms(lastShuffleUs - firstShuffleUs) : 0,
    },
    hottestLink: hottest ? { from: hottest.from, to: hottest.to, bytes: hottest.bytes } : null,
    bisectionBytes,
    bisectionLinks: bisectionLinks.size,
    linkBusyMs: { mean: mean(busy.reduce((a, b) => a + b, 0), busy.length), max: busy.length > 0 ? Math.max(...busy) : 0 },
    linkBytes: { mean: links.length > 0 ? Math.round(links.reduce((a, l) => a + l.bytes, 0) / links.length) : 0, max: hottest?.bytes ?? 0 },
    model: {
      switching: model.link.switching,
      linkLatencyUs: model.link.latencyUs,
      linkMbPerSec: model.link.bandwidthBytesPerSec / 1e6,
      hopUs: model.link.hopUs,
      nodeMbPerSec: model.nodeBytesPerSec / 1e6,
    },
    links,
  };
}
