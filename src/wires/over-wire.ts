// A Transport over a Wire: the one place where the call policy (deadline, retries of idempotent
// calls: call-policy.ts) and the chaos layer (--chaos: chaos/) are put over a backend's wire.
// Every try of a call passes through the node's chaos layer below the policy, as a network
// between the stub and the server would: what the layer loses, the policy retries. Served
// handlers refuse calls while their node is cut off. Wires themselves only move bytes.
import { LONG_POLL_MARGIN_MS, MASTER_POLICY, callWithPolicy, type CallPolicy } from './call-policy.ts';
import type { ChaosNode } from './chaos/chaos-node.ts';
import { chaosMasterService, chaosWorkerService } from './chaos/chaos-services.ts';
import type { MasterMethod } from './contract.gen.ts';
import { MASTER_METHODS, type MasterClient, type MasterLink, type Transport, type Wire, type WorkerClient } from './transport.ts';
import { isUnavailable } from './unavailable.ts';

export function transportOver(wire: Wire, chaos?: ChaosNode): Transport {
  const { lossy, linkMaster, serveMaster, serveWorker, connectWorker, attachChaos, ...rest } = wire;
  if (chaos) attachChaos?.call(wire, chaos);
  // An in-process wire never fails a call by itself: its calls are retried only when chaos can fail them.
  const retried = lossy || chaos !== undefined;
  return {
    ...rest,
    ...(chaos ? { chaos } : {}),
    serveMaster: (handlers, listen) => serveMaster.call(wire, chaos ? chaosMasterService(handlers, chaos) : handlers, listen),
    serveWorker: (handlers, listen) => serveWorker.call(wire, chaos ? chaosWorkerService(handlers, chaos) : handlers, listen),
    // host:port,host:port: masters that stand in for each other (mr master --ha); a call that finds
    // no one at one address goes to the next, through the same retries.
    connectMaster: (address) => {
      const addresses = address.split(',').map((one) => one.trim()).filter(Boolean);
      if (addresses.length <= 1) return masterClient(linkMaster.call(wire, address), retried, chaos);
      return masterClient(failoverLink(addresses.map((one) => linkMaster.call(wire, one))), true, chaos);
    },
    connectWorker: (address) => workerClient(connectWorker.call(wire, address), chaos),
  };
}

/** One link over several masters: calls go to the one that answered last; one that does not answer passes the turn to the next. */
function failoverLink(links: MasterLink[]): MasterLink {
  let current = 0;
  return {
    async call(method, request, deadline, retry, copy) {
      const at = current;
      try {
        return await links[at].call(method, request, deadline, retry, copy);
      } catch (error) {
        if (isUnavailable(error) && current === at) current = (at + 1) % links.length;
        throw error;
      }
    },
    ...(links[0].explain ? { explain: (error: unknown) => links[0].explain!(error) } : {}),
    close: () => links.forEach((link) => link.close()),
  };
}

function policyOf(method: MasterMethod, request: object, retried: boolean): CallPolicy {
  const policy = MASTER_POLICY[method];
  // A long poll: the master may hold it for waitMs.
  const deadlineMs = method === 'requestTask' ? (request as { waitMs: number }).waitMs + LONG_POLL_MARGIN_MS : policy.deadlineMs;
  return { ...policy, deadlineMs, ...(retried ? {} : { retries: 0 }) };
}

function masterClient(link: MasterLink, retried: boolean, chaos: ChaosNode | undefined): MasterClient {
  const client: Record<string, unknown> = { close: () => link.close() };
  for (const method of MASTER_METHODS) {
    const { forged } = link;
    client[method] = (request: object) => {
      const once = (deadline: Date, retry: number) => link.call(method, request, deadline, retry);
      const tried = chaos
        ? (deadline: Date, retry: number) => chaos.unary('Master', method, request, () => once(deadline, retry), forged && (() => forged.call(link, method, request, deadline)),
          () => link.call(method, request, deadline, retry, true))
        : once;
      const call = callWithPolicy(policyOf(method, request, retried), tried);
      // Only once the retries are spent: a server restarting may drop a connection or two the same way.
      return link.explain ? call.catch((error: unknown) => {
        throw link.explain!(error);
      }) : call;
    };
  }
  return client as unknown as MasterClient;
}

/** Streams pass through the chaos layer (their callers retry them); RunTask goes as it is: the balancer sending it wraps its own sends. */
function workerClient(direct: WorkerClient, chaos: ChaosNode | undefined): WorkerClient {
  if (!chaos) return direct;
  const { readFile, fetchPartitions } = direct;
  return {
    ...direct,
    fetchPartition: (request) => chaos.stream('Worker', 'fetchPartition', request, () => direct.fetchPartition(request)),
    ...(fetchPartitions ? { fetchPartitions: (request) => chaos.stream('Worker', 'fetchPartitions', request, () => fetchPartitions.call(direct, request)) } : {}),
    ...(readFile ? { readFile: (request) => chaos.stream('Worker', 'readFile', request, () => readFile.call(direct, request)) } : {}),
    close: () => direct.close(),
  };
}
