// Server-Sent Events framing (the text/event-stream format): pure functions, no stream.

/** One event: its name, then its data, one `data:` line per line of text, then a blank line. */
export function sseEvent(event: string, data: string): string {
  if (/[\r\n]/.test(event)) throw new Error('an event name is one line');
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join('');
  return `event: ${event}\n${lines}\n`;
}

/** A comment line: ignored by EventSource, it keeps proxies and the connection from timing out. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** How long a browser waits before it reconnects after the stream closed. */
export function sseRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.round(ms))}\n\n`;
}
