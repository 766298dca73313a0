// The attempts running now, by id, with what thousands of workers make worth keeping at hand:
// how many run on each worker (a long poll's wake order asks it of every waiting worker), and
// the attempts let go since last asked (the master ends those no report will end, without
// walking every running attempt after each report).
import type { AttemptRecord } from './task-table.ts';

export class AttemptTable extends Map<string, AttemptRecord> {
  private readonly perWorker = new Map<string, number>();
  private letGo: string[] = [];

  override set(id: string, attempt: AttemptRecord): this {
    const before = super.get(id);
    if (before) this.count(before.workerId, -1);
    super.set(id, attempt);
    this.count(attempt.workerId, 1);
    return this;
  }

  override delete(id: string): boolean {
    const attempt = super.get(id);
    if (!attempt) return false;
    super.delete(id);
    this.count(attempt.workerId, -1);
    this.letGo.push(id);
    return true;
  }

  override clear(): void {
    for (const id of super.keys()) this.letGo.push(id);
    super.clear();
    this.perWorker.clear();
  }

  /** How many attempts run on the worker now. */
  countOn(workerId: string): number {
    return this.perWorker.get(workerId) ?? 0;
  }

  /** The ids deleted since the last call (each once). */
  takeLetGo(): string[] {
    const taken = this.letGo;
    this.letGo = [];
    return taken;
  }

  private count(workerId: string, by: number): void {
    const n = (this.perWorker.get(workerId) ?? 0) + by;
    if (n > 0) this.perWorker.set(workerId, n);
    else this.perWorker.delete(workerId);
  }
}
