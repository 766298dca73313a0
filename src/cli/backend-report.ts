// `mr run --report`: the backend's own figures as a few readable lines on stderr.
import type { BackendReport } from '../transport/index.ts';

export function formatBackendReport(report: BackendReport, wallMs: number): string[] {
  const lines = [`backend ${report.name}: ${report.nodes} node(s), ${report.messages} message(s), ${bytes(report.bytes)}; wall ${seconds(wallMs)}`];
  if (typeof report.simulatedMs === 'number') lines.push(`simulated time ${seconds(report.simulatedMs)}`);
  const rest = Object.entries(report).filter(([key, value]) =>
    !['name', 'nodes', 'messages', 'bytes', 'simulatedMs'].includes(key) && value !== undefined
    && !(Array.isArray(value) && value.length > MAX_LISTED)); // long tables (per link) stay in --json
  if (rest.length > 0) lines.push(rest.map(([key, value]) => `${key}=${show(key, value)}`).join(' '));
  return lines.map((line) => `mr: ${line}`);
}

const MAX_LISTED = 20;

function show(key: string, value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v !== null && typeof v === 'object' ? Object.values(v).join(':') : String(v))).join(',')}]`;
  if (typeof value === 'number' && /bytes/i.test(key)) return bytes(value);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).map(([k, v]) => `${k}:${typeof v === 'number' && /bytes/i.test(k) ? bytes(v) : String(v)}`).join(',');
  }
  return String(value);
}

function bytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(2)} ms`;
}
