// The master's journal: group commit (one fsync covers the records of a turn), durable appends
// acknowledged only once synced, and records read back as written.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, type JournalRecord } from '../../src/master/journal.ts';

const dirs: string[] = [];
function journal(): Journal {
  const dir = mkdtempSync(join(tmpdir(), 'mr-journal-'));
  dirs.push(dir);
  return new Journal(join(dir, 'journal.jsonl'));
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const done = (index: number): JournalRecord => ({ t: 'task-done', jobId: 'j', stage: 1, kind: 'map', index, counters: {}, durationMs: 1 });

describe('Journal', () => {
  it('covers the durable records of one turn with one fsync, and resolves none before it', async () => {
    const j = journal();
    let resolved = 0;
    const all = Array.from({ length: 100 }, (_, i) => j.append(done(i), true).then(() => resolved++));
    await Promise.resolve();
    expect(resolved).toBe(0);                      // written, not yet on disk: not acknowledged
    expect(j.fsyncs).toBe(0);
    await Promise.all(all);
    expect(resolved).toBe(100);
    expect(j.fsyncs).toBe(1);
    expect(Journal.read(j.path).map((r) => (r as { index: number }).index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    j.close();
  });

  it('groups what comes while an fsync runs into the next one; sync() waits for every record so far', async () => {
    const j = journal();
    const first = j.append(done(0), true);
    await new Promise((resolve) => setImmediate(resolve)); // the first fsync has started
    const later = [j.append(done(1), true), j.append(done(2)), j.append(done(3), true)];
    await first;
    await Promise.all(later);
    expect(j.fsyncs).toBe(2);
    j.append(done(4));
    await j.sync();
    expect(j.fsyncs).toBe(3);
    await j.sync();                                // nothing new: no fsync
    expect(j.fsyncs).toBe(3);
    j.close();
  });

  it('a record appended without durable is written at once (a crash of the process keeps it)', () => {
    const j = journal();
    void j.append(done(7));
    expect(Journal.read(j.path)).toEqual([done(7)]);
    j.close();
  });

  it('close waits for the fsync in flight and resolves what waited', async () => {
    const j = journal();
    const pending = j.append(done(0), true);
    j.close();
    await pending;
    expect(() => j.append(done(1))).toThrow(/closed/);
  });
});
