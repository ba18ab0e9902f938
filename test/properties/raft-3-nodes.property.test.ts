import { raftProperty } from './raft-property.ts';

// Seeds per CI run for a 3-member cluster; sized so both files together stay under the properties
// budget on 2 cores (see README). SIM_RUNS overrides, SIM_SEED replays one seed.
raftProperty(3, 650);
