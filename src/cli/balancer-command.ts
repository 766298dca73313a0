// `mr balancer`: the horizontal backend's switch as a daemon, stopped cleanly by SIGINT/SIGTERM.
import { Balancer } from '../backends/horizontal/balancer/balancer.ts';
import { addressList, checkAddress, hostOf } from '../backends/horizontal/balancer/server-address.ts';
import { EXIT, UsageError, oneLine } from '../errors.ts';
import { createLogger } from '../log.ts';
import { readToken, requireTokenBeyondLoopback, type TokenArgs } from './token-args.ts';
import { readTls, type TlsArgs } from './tls-args.ts';

export interface BalancerArgs extends TokenArgs, TlsArgs {
  listen: string;
  backends?: string[] | string;   // host:port of worker servers, comma-separated or repeated
}

export async function balancerCommand(args: BalancerArgs): Promise<void> {
  const token = readToken(args);
  const tls = readTls(args);
  const listen = checkAddress('--listen', args.listen, { portZero: true });
  requireTokenBeyondLoopback('--listen', hostOf(listen), token, tls);
  const backends = addressList('--backends', args.backends);
  const balancer = new Balancer({ backends, token, tls, log: createLogger({ component: 'balancer' }) });
  let address: string;
  try {
    address = await balancer.start(listen);
  } catch (error) {
    await balancer.stop();
    throw new UsageError(`cannot listen on ${listen}: ${oneLine(error)}`);
  }
  process.stdout.write(`balancer ${address}\n`);
  const stop = () => void balancer.stop().then(() => process.exit(EXIT.ok));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  await new Promise(() => {});
}
