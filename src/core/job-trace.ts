// What a finished job did, in the terms a machine model needs: per stage, where each task ran
// and how many bytes it read and wrote. The simulated backends replay this on their network.
import { COUNTER, type Counters } from './counters.ts';
import { stageCounters, type StageRecord } from './task-table.ts';

export interface MapTrace {
  node: number;
  inputBytes: number;
  partitionBytes: number[];      // the output's size per reduce partition
}

export interface ReduceTrace {
  node: number;
  outputBytes: number;
}

export interface StageTrace {
  maps: MapTrace[];
  reduces: ReduceTrace[];
  counters: Counters;            // the stage's, summed over its committed tasks
}

export interface JobTrace {
  stages: StageTrace[];
}

/** The trace of a job's stages; a task with no known node counts as on node 0. */
export function traceStages(stages: readonly StageRecord[]): JobTrace {
  return {
    stages: stages.map((stage) => ({
      maps: stage.maps.map((task) => ({
        node: task.node ?? 0,
        inputBytes: task.counters?.[COUNTER.mapInputBytes] ?? 0,
        partitionBytes: stage.reduces.map((_, r) => task.partitionBytes?.[r] ?? 0),
      })),
      reduces: stage.reduces.map((task) => ({ node: task.node ?? 0, outputBytes: task.counters?.[COUNTER.reduceOutputBytes] ?? 0 })),
      counters: stageCounters(stage),
    })),
  };
}
