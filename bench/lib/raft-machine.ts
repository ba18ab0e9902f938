import { describeHost, type HostDescription } from './host.ts';

export interface RaftBenchMachine extends HostDescription {
  readonly etcd: string;
}

/** The host plus the etcd version the Raft benchmark compared against. */
export function describeRaftBenchMachine(etcdVersion: string): RaftBenchMachine {
  return { ...describeHost(), etcd: etcdVersion };
}
