// Whether a host is reachable only from this machine: what decides, for every server of the
// project, whether a caller must prove who it is.
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1)$/;

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}
