import { wholeClusterProperty } from './whole-cluster-property.ts';

// Half of the 500 schedules per CI run (two files: one per core). SIM_RUNS overrides, SIM_SEED replays.
wholeClusterProperty('test/properties/whole-cluster-b.property.test.ts', 250);
