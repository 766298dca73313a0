// oneLine: any error as one line that ends cleanly.
import { describe, expect, it } from 'vitest';
import { oneLine } from '../../src/errors.ts';

describe('oneLine', () => {
  it('joins lines', () => {
    expect(oneLine(new Error('first\n  second\n'))).toBe('first second');
  });

  it("drops gRPC's empty resolution note, keeps one that says something", () => {
    const refused = '14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:45385. Resolution note: ';
    expect(oneLine(new Error(refused))).toBe('14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:45385');
    expect(oneLine(`cannot fetch map output 1 (${refused})`)).toBe('cannot fetch map output 1 (14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:45385)');
    expect(oneLine(new Error('14 UNAVAILABLE: No addresses resolved. Resolution note: DNS lookup failed'))).toBe('14 UNAVAILABLE: No addresses resolved. Resolution note: DNS lookup failed');
  });
});
