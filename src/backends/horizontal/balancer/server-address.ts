// host:port as the balancer takes it (--listen, --backends, Join): checked up front so that a typo
// is a one-line usage error, not a server that never becomes healthy.
import { UsageError } from '../../../errors.ts';

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/** The address itself, trimmed; throws UsageError naming `what` when it is not host:port. */
export function checkAddress(what: string, address: string, options: { portZero?: boolean } = {}): string {
  const text = address.trim();
  const match = HOST_PORT.exec(text);
  const port = match ? Number(match[2]) : NaN;
  const lowest = options.portZero ? 0 : 1;
  if (!match || port < lowest || port > 65535) {
    throw new UsageError(`${what} ${JSON.stringify(address)} is not host:port (e.g. 127.0.0.1:${options.portZero ? '0' : '7001'})`);
  }
  return text;
}

export function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':'));
}

/** --backends as yargs gives it (one string, or one per repetition), each possibly a comma list. */
export function addressList(what: string, value: string[] | string | undefined): string[] {
  const items = (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((v) => String(v).split(','));
  return items.map((item) => item.trim()).filter((item) => item.length > 0).map((item) => checkAddress(what, item));
}
