// ReplyMemo: the same request again gets the first one's reply, in flight or given; failures are not kept.
import { describe, expect, it } from 'vitest';
import { ReplyMemo } from '../../src/master/reply-memo.ts';

describe('ReplyMemo', () => {
  it('answers a request that comes again while the first is still being worked out with the same reply', async () => {
    let now = 0;
    const memo = new ReplyMemo<number>(1000, () => now);
    let calls = 0;
    let finish!: (n: number) => void;
    const work = () => {
      calls++;
      return new Promise<number>((resolve) => (finish = resolve));
    };
    const first = memo.once('w/1', work);
    const again = memo.once('w/1', work);
    finish(7);
    expect(await first).toBe(7);
    expect(await again).toBe(7);
    expect(calls).toBe(1);
  });

  it('answers it after the reply was given, until keepMs has passed', async () => {
    let now = 0;
    const memo = new ReplyMemo<string>(1000, () => now);
    let calls = 0;
    const work = async () => `reply ${++calls}`;
    expect(await memo.once('k', work)).toBe('reply 1');
    now = 900;
    memo.prune();
    expect(await memo.once('k', work)).toBe('reply 1');
    now = 1100;
    memo.prune();
    expect(await memo.once('k', work)).toBe('reply 2');
    expect(await memo.once('other', work)).toBe('reply 3');
  });

  it('forgets a request that failed, so that asking again does it anew', async () => {
    const memo = new ReplyMemo<number>(1000, () => 0);
    let calls = 0;
    const work = () => (++calls === 1 ? Promise.reject(new Error('no')) : Promise.resolve(calls));
    await expect(memo.once('k', work)).rejects.toThrow('no');
    expect(await memo.once('k', work)).toBe(2);
  });

  it('turns work that throws at once into a failed reply', async () => {
    const memo = new ReplyMemo<number>(1000, () => 0);
    await expect(memo.once('k', () => {
      throw new Error('at once');
    })).rejects.toThrow('at once');
  });
});
