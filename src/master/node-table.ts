// Which node each worker is: the number it gave (simulated machines), or one the master gives it
// in the order workers join (0, 1, 2, ...; a worker that re-registers keeps its number). Nodes
// name where an attempt runs in `mr ps`, what `mr drain` acts on, and the /cluster/<node>/
// namespace.
export class NodeTable {
  private readonly nodes = new Map<string, number>();
  private next = 0;

  assign(workerId: string, given?: number): number {
    const known = this.nodes.get(workerId);
    const node = given ?? known ?? this.next;
    this.nodes.set(workerId, node);
    this.next = Math.max(this.next, node + 1);
    return node;
  }

  nodeOf(workerId: string): number | undefined {
    return this.nodes.get(workerId);
  }

  workersOn(node: number): string[] {
    return [...this.nodes].filter(([, n]) => n === node).map(([workerId]) => workerId);
  }
}
