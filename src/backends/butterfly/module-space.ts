// Free space of one memory module: a sorted list of free extents, merged with their neighbours
// when freed. The partition being written takes a whole extent (the largest: its final size is
// not known) and gives back what it did not use when it closes.

export interface Extent {
  offset: number;
  length: number;
}

export class ModuleSpace {
  private free: Extent[];   // sorted by offset, never adjacent, never empty

  constructor(readonly moduleBytes: number) {
    this.free = [{ offset: 0, length: moduleBytes }];
  }

  freeBytes(): number {
    return this.free.reduce((sum, extent) => sum + extent.length, 0);
  }

  /** Removes and returns the largest free extent, or undefined when the module is full. */
  takeLargest(): Extent | undefined {
    if (this.free.length === 0) return undefined;
    let best = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i].length > this.free[best].length) best = i;
    return this.free.splice(best, 1)[0];
  }

  /** Returns [offset, offset + length) to the free space; it must not be free already. */
  release(offset: number, length: number): void {
    if (length === 0) return;
    let at = 0;
    while (at < this.free.length && this.free[at].offset < offset) at++;
    const before = this.free[at - 1];
    const after = this.free[at];
    if ((before && before.offset + before.length > offset) || (after && offset + length > after.offset) || offset + length > this.moduleBytes) {
      throw new Error(`module space [${offset}, ${offset + length}) overlaps free space: released twice?`);
    }
    const joinsBefore = before !== undefined && before.offset + before.length === offset;
    const joinsAfter = after !== undefined && offset + length === after.offset;
    if (joinsBefore && joinsAfter) {
      before.length += length + after.length;
      this.free.splice(at, 1);
    } else if (joinsBefore) {
      before.length += length;
    } else if (joinsAfter) {
      after.offset = offset;
      after.length += length;
    } else {
      this.free.splice(at, 0, { offset, length });
    }
  }
}
