// The workers the master tells the others are presumed dead: kept a minute, dropped when a worker
// registers at the address again.
import { describe, expect, it } from 'vitest';
import { GONE_KEEP_MS, GoneAddresses } from '../../src/master/gone-addresses.ts';

describe('gone addresses', () => {
  it('lists a dead worker\'s address for a minute, and not once a worker serves there again', () => {
    const gone = new GoneAddresses();
    gone.gone('10.0.0.2:7001', 1000);
    gone.gone('10.0.0.3:7001', 2000);
    expect(gone.list(1500)).toEqual(['10.0.0.2:7001', '10.0.0.3:7001']);
    gone.back('10.0.0.3:7001');
    expect(gone.list(1500)).toEqual(['10.0.0.2:7001']);
    expect(gone.list(1000 + GONE_KEEP_MS + 1)).toEqual([]);
  });
});
