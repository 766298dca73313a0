// Static placement on a simulated machine of N nodes, so the same job always runs the same way
// and its simulated time is reproducible. The tasks of a phase are spread evenly: with no more
// tasks than nodes, task i of T goes to node floor(i * N / T) (8 maps on 16 nodes: 0, 2, 4, ...;
// the whole machine takes part, not one corner of it); with more, task i goes to node i mod N.
// The master still moves a task whose node has no live worker, so a lost node cannot stall a job.

export function homeNode(taskIndex: number, tasks: number, nodes: number): number {
  return tasks <= nodes ? Math.floor((taskIndex * nodes) / tasks) : taskIndex % nodes;
}
