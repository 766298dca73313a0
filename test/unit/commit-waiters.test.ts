// Group commit's bookkeeping: a wait is answered once a durable write covers its record, all the
// waits a write covers at once; a failed write fails every wait, now and later.
import { describe, expect, it } from 'vitest';
import { CommitWaiters } from '../../src/master/commit-waiters.ts';

describe('CommitWaiters', () => {
  it('answers a wait once a write covers its record, and starts a write only when one waits', async () => {
    const commits = new CommitWaiters();
    let scheduled = 0;
    const schedule = () => scheduled++;
    await commits.sync(schedule);                 // nothing written: nothing to wait for
    expect(scheduled).toBe(0);
    commits.written += 2;
    const first = commits.sync(schedule);
    commits.written += 1;
    const second = commits.sync(schedule);
    expect(scheduled).toBe(2);
    let done = [false, false];
    void first.then(() => (done = [true, done[1]]));
    void second.then(() => (done = [done[0], true]));
    expect(commits.covered(2)).toBe(true);        // the second still waits for record 3
    await Promise.resolve();
    expect(done).toEqual([true, false]);
    expect(commits.covered(3)).toBe(false);
    await second;
    expect(done).toEqual([true, true]);
  });

  it('fails every wait once a write failed, and every later one', async () => {
    const commits = new CommitWaiters(5);         // records 1-5 were durable before
    commits.written = 7;
    const waiting = commits.sync(() => {});
    commits.covered(7, new Error('disk gone'));
    await expect(waiting).rejects.toThrow('disk gone');
    commits.written++;
    await expect(commits.sync(() => {})).rejects.toThrow('disk gone');
  });

  it('settles every wait when the journal closes after its last sync', async () => {
    const commits = new CommitWaiters();
    commits.written = 3;
    const waiting = commits.sync(() => {});
    commits.settleAll();
    await waiting;
    expect(commits.durable).toBe(3);
  });
});
