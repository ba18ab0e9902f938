export type { Clock } from './clock.ts';
export type { Random } from './random.ts';
export type { Transport, NodeId } from './transport.ts';
export type { RaftStorage, RaftPersistedState } from './raft-storage.ts';
export type { ContainerRuntime, ContainerSummary, ContainerState, CreateContainerRequest, RuntimeEvent, RuntimeEventSubscription } from './container-runtime.ts';
export { RuntimeError } from './container-runtime.ts';
export type { StateStore } from './state-store.ts';
