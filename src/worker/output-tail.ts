// The last maxChars characters of what was written, in bounded memory: older text is dropped as
// more comes, and the text then starts with a "... (truncated)" line.
export const TRUNCATED_MARK = '... (truncated)\n';

export class OutputTail {
  private chunks: string[] = [];
  private held = 0;          // characters in chunks
  private dropped = false;

  constructor(readonly maxChars: number) {}

  append(text: string): void {
    if (text === '') return;
    this.chunks.push(text);
    this.held += text.length;
    // Compact only once twice the limit is held: appending stays O(1) amortised.
    if (this.held > 2 * this.maxChars) this.compact();
  }

  private compact(): void {
    const all = this.chunks.join('');
    if (all.length > this.maxChars) this.dropped = true;
    const kept = all.slice(-this.maxChars);
    this.chunks = [kept];
    this.held = kept.length;
  }

  /** What was written, or its last maxChars characters after the truncation mark; without a final newline. */
  text(): string {
    this.compact();
    const body = this.chunks.join('').replace(/\n$/, '');
    return this.dropped ? TRUNCATED_MARK + body : body;
  }
}
