// Topology of a hypercube multicomputer of 2^d nodes (d = 0..10): node numbering, neighbours,
// e-cube (dimension-order) routes and the bisection, shared by the network model and a future backend.

/** The largest supported dimension: 1024 nodes keeps node numbers small and link tables cheap. */
export const MAX_DIMENSIONS = 10;

/** Throws a RangeError unless d is an integer from 0 to MAX_DIMENSIONS. */
export function checkDimensions(d: number): void {
  if (!Number.isInteger(d) || d < 0 || d > MAX_DIMENSIONS) {
    throw new RangeError(`hypercube dimensions must be an integer from 0 to ${MAX_DIMENSIONS}, got ${d}`);
  }
}

/** 2^d, the number of nodes of a d-dimensional hypercube. */
export function nodeCount(d: number): number {
  checkDimensions(d);
  return 1 << d;
}

/** The dimension d of a hypercube of `nodes` nodes, which must be a power of two from 1 to 1024. */
export function dimensionsOf(nodes: number): number {
  const max = 1 << MAX_DIMENSIONS;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > max || (nodes & (nodes - 1)) !== 0) {
    throw new RangeError(`hypercube node count must be a power of two from 1 to ${max}, got ${nodes}`);
  }
  return 31 - Math.clz32(nodes);
}

/** Throws a RangeError unless node is a node number of the d-dimensional hypercube. */
export function checkNode(node: number, d: number, what = 'node'): void {
  const n = nodeCount(d);
  if (!Number.isInteger(node) || node < 0 || node >= n) {
    throw new RangeError(`${what} must be an integer from 0 to ${n - 1} in a ${d}-dimensional hypercube, got ${node}`);
  }
}

/** The d neighbours of node, in dimension order (neighbour k differs in bit k). */
export function neighbors(node: number, d: number): number[] {
  checkNode(node, d);
  const out: number[] = [];
  for (let k = 0; k < d; k++) out.push(node ^ (1 << k));
  return out;
}

/** The number of bits in which a and b differ: the hop count of a shortest route between them. */
export function hammingDistance(a: number, b: number): number {
  checkBits(a, 'a');
  checkBits(b, 'b');
  return popcount(a ^ b);
}

/** The number of bits set in x (a non-negative 31-bit integer). */
export function popcount(x: number): number {
  let count = 0;
  for (; x !== 0; count++) x &= x - 1; // clears the lowest set bit
  return count;
}

/**
 * The e-cube step from node towards dst (they differ): the lowest dimension in which they still
 * differ, and the neighbour across it. Unchecked: the routers take it for every packet they forward.
 */
export function ecubeStep(node: number, dst: number): { dimension: number; next: number } {
  const differ = node ^ dst;
  const dimension = 31 - Math.clz32(differ & -differ);
  return { dimension, next: node ^ (1 << dimension) };
}

// Bit operators work on signed 32-bit integers, so larger or fractional values would silently wrap.
function checkBits(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw new RangeError(`${what} must be a non-negative 31-bit integer, got ${value}`);
  }
}

/**
 * The e-cube route from src to dst, both included: the differing bits are fixed from the lowest to
 * the highest. Dimension-order routing is deadlock-free and makes every route deterministic.
 */
export function ecubeRoute(src: number, dst: number, d: number): number[] {
  checkNode(src, d, 'src');
  checkNode(dst, d, 'dst');
  const route = [src];
  let node = src;
  for (let k = 0; k < d; k++) {
    const bit = 1 << k;
    if (((node ^ dst) & bit) === 0) continue;
    node ^= bit;
    route.push(node);
  }
  return route;
}

/**
 * The undirected links cut by the bisection on the highest dimension bit, as [low, high] pairs
 * where low has that bit clear; 2^(d-1) of them for d >= 1, none for d = 0.
 */
export function bisectionLinks(d: number): Array<[number, number]> {
  checkDimensions(d);
  if (d === 0) return [];
  const top = 1 << (d - 1);
  const links: Array<[number, number]> = [];
  for (let low = 0; low < top; low++) links.push([low, low | top]);
  return links;
}

/** True when a and b lie on opposite sides of the bisection, i.e. differ in the highest bit. */
export function crossesBisection(a: number, b: number, d: number): boolean {
  checkNode(a, d, 'a');
  checkNode(b, d, 'b');
  return d > 0 && ((a ^ b) & (1 << (d - 1))) !== 0;
}
