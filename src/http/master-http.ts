// The status server of a master process (mr master --http, mr run --http): its metrics are made
// before the master (they hear its events), its server started once the master runs.
import type { Logger } from '../log.ts';
import { MasterMetrics, type MetricsView } from '../master/metrics.ts';
import type { HttpBind } from './http-address.ts';
import { startStatusServer, type StatusServer, type StatusSource } from './status-server.ts';

export interface MasterHttp {
  /** For MasterOptions.onAttemptEnd. */
  onAttemptEnd: MasterMetrics['attemptEnded'];
  /** Serves the master's status; resolves to host:port. */
  start(master: StatusSource & MetricsView, log: Logger): Promise<string>;
  close(): Promise<void>;
}

/** token: the cluster's, asked of every request; give it only for a bind beyond loopback. */
export function prepareMasterHttp(bind: HttpBind, token: string | undefined): MasterHttp {
  const metrics = new MasterMetrics();
  let server: StatusServer | undefined;
  return {
    onAttemptEnd: metrics.attemptEnded,
    async start(master, log) {
      metrics.attach(master);
      server = await startStatusServer({ bind, token, source: master, metrics, log });
      return server.address;
    },
    async close() {
      await server?.close();
    },
  };
}
