import { type AnyActorRef, createActor, enqueueActions, setup } from 'xstate';
import type { Logger } from 'pino';
import type { Clock } from '../seams/clock.ts';
import type { NodeChange, NodeContext, NodeEvent, NodeStatus } from '../machines/node-types.ts';
import { DEFAULT_NODE_TIMING, type NodeTiming } from '../machines/node-timing.ts';
import type { nodeMachine } from '../machines/node.ts';
import { safely } from './engine-call.ts';
import { createShardLogic, type ShardContext } from './node-membership-shard.ts';
import type { MembershipEvent, MembershipRecord, NodeView, ShardReport } from './node-membership-types.ts';
import { describeError, respawnDelayMs } from './supervision.ts';

export type { MembershipEvent, MembershipRecord, NodeView } from './node-membership-types.ts';

/**
 * Shards keep each XState parent to a few hundred children (DESIGN.md: spawning or stopping a
 * child copies the parent's whole children object). 16 shards hold ≈ 63 nodes each at 1,000
 * nodes and stay under 300 children up to ≈ 4,800.
 */
export const DEFAULT_MEMBERSHIP_SHARDS = 16;

export interface NodeMembershipOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly timing?: NodeTiming;
  /** The node records known when the leader starts. */
  readonly nodes?: readonly MembershipRecord[];
  /**
   * How those first nodes start. `unknown` (default) is what a leader that just took over wants:
   * each is ready on its first heartbeat or down after one grace, so a leader change reschedules
   * nothing that keeps heartbeating. `joining` is for a cluster being bootstrapped.
   */
  readonly startAs?: 'joining' | 'unknown';
  readonly shards?: number;
  /** Told about every change; a throwing listener is logged and ignored. */
  readonly onEvent?: (event: MembershipEvent) => void;
  /** For tests: a node logic that fails on cue. */
  readonly nodeLogic?: typeof nodeMachine;
}

export interface NodeMembership {
  /** Converge to these records (add, remove, availability); nodes added later start `joining`. */
  sync(records: readonly MembershipRecord[]): void;
  /** Routes one heartbeat to its node; false when no record of that node is known. */
  heartbeat(nodeId: string, report?: unknown): boolean;
  joined(nodeId: string): boolean;
  leave(nodeId: string): boolean;
  node(nodeId: string): NodeView | undefined;
  nodes(): NodeView[];
  /** How many nodes are in each status. */
  counts(): Record<NodeStatus, number>;
  subscribe(listener: (event: MembershipEvent) => void): () => void;
  stop(): void;
  /** The root actor (for the inspector: root → shards → one node machine per node). */
  readonly actor: AnyActorRef;
}

type RootEvent =
  | { readonly type: 'SYNC'; readonly records: readonly MembershipRecord[] }
  | { readonly type: 'shard.respawn'; readonly shard: number }
  | { readonly type: `xstate.error.actor.${string}`; readonly error: unknown; readonly actorId: string }
  | ShardReport;

interface RootContext {
  /** Records by shard: what a respawned shard is rebuilt from. */
  byShard: MembershipRecord[][];
  shardCrashes: number[];
}

const shardId = (index: number) => `shard-${index}`;

/** FNV-1a: cheap and stable, so a node always lands in the same shard. */
export function shardOf(nodeId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < nodeId.length; i++) hash = Math.imul(hash ^ nodeId.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % shards;
}

function splitByShard(records: readonly MembershipRecord[], shards: number): MembershipRecord[][] {
  const byShard: MembershipRecord[][] = Array.from({ length: shards }, () => []);
  for (const record of records) byShard[shardOf(record.id, shards)]!.push(record);
  return byShard;
}

/**
 * The leader's view of every node: one node machine per node record, in shards, fed by the
 * heartbeats the dispatcher receives. Reconcilers listen for `node.status` changes (down → replace
 * its work; ready → it may take work again). The per-heartbeat path is one map lookup, one
 * synchronous delivery to the node machine and one timer restart; bench/heartbeats.ts measures it.
 *
 * Supervision: the root handles its shards' failures (stop, respawn after the back-off of
 * supervision.ts with every node of the shard `unknown`); the shards handle their node machines
 * (node-membership-shard.ts). The root actor also has an error observer, so nothing here can
 * take the daemon down.
 */
export function startNodeMembership(options: NodeMembershipOptions): NodeMembership {
  const { clock, logger } = options;
  const shards = options.shards ?? DEFAULT_MEMBERSHIP_SHARDS;
  const shardLogic = createShardLogic({ timing: options.timing ?? DEFAULT_NODE_TIMING, logger, ...(options.nodeLogic ? { nodeLogic: options.nodeLogic } : {}) });
  const listeners = new Set<(event: MembershipEvent) => void>();
  if (options.onEvent) listeners.add(options.onEvent);
  const initial = splitByShard(options.nodes ?? [], shards);
  /** Node id → shard, so a heartbeat from an unknown node costs one map lookup and nothing else. */
  const known = new Map<string, number>();
  for (const record of options.nodes ?? []) known.set(record.id, shardOf(record.id, shards));

  const root = setup({
    types: { context: {} as RootContext, events: {} as RootEvent, emitted: {} as MembershipEvent },
    actors: { shard: shardLogic },
  }).createMachine({
    id: 'node-membership',
    context: { byShard: initial, shardCrashes: Array.from({ length: shards }, () => 0) },
    entry: enqueueActions(({ enqueue }) => {
      for (let i = 0; i < shards; i++) enqueue.spawnChild('shard', { id: shardId(i), input: { index: i, records: initial[i]!, startAs: options.startAs ?? 'unknown' } });
    }),
    on: {
      SYNC: {
        actions: enqueueActions(({ event, enqueue, self }) => {
          const byShard = splitByShard(event.records, shards);
          for (let i = 0; i < shards; i++) {
            const ref = childOf(self, shardId(i));
            if (ref) enqueue.sendTo(ref, { type: 'SYNC', records: byShard[i]! });
          }
          enqueue.assign({ byShard });
        }),
      },
      'node.status': { actions: enqueueActions(({ event, enqueue }) => enqueue.emit({ ...(event as NodeChange), atMs: clock.nowMs() })) },
      'node.availability': { actions: enqueueActions(({ event, enqueue }) => enqueue.emit({ ...(event as NodeChange), atMs: clock.nowMs() })) },
      'node.removed': { actions: enqueueActions(({ event, enqueue }) => enqueue.emit({ ...event, atMs: clock.nowMs() } as MembershipEvent)) },
      'node.crashed': { actions: enqueueActions(({ event, enqueue }) => enqueue.emit({ ...event, atMs: clock.nowMs() } as MembershipEvent)) },
      'shard.respawn': {
        actions: enqueueActions(({ context, event, enqueue }) => {
          const { shard } = event as { shard: number };
          enqueue.spawnChild('shard', { id: shardId(shard), input: { index: shard, records: context.byShard[shard] ?? [], startAs: 'unknown' } });
        }),
      },
      'xstate.error.actor.*': {
        actions: enqueueActions(({ context, event, enqueue }) => {
          const { actorId, error } = event as { actorId: string; error: unknown };
          enqueue.stopChild(actorId);
          const shard = Number(actorId.slice('shard-'.length));
          if (!Number.isInteger(shard) || shard < 0 || shard >= shards) return;
          const message = describeError(error);
          logger.error({ shard, error: message }, 'membership shard failed; respawning it with its nodes unknown');
          const shardCrashes = [...context.shardCrashes];
          shardCrashes[shard] = (shardCrashes[shard] ?? 0) + 1;
          enqueue.emit({ type: 'shard.crashed', shard, error: message, atMs: clock.nowMs() });
          enqueue.raise({ type: 'shard.respawn', shard }, { delay: respawnDelayMs(shardCrashes[shard]!) });
          enqueue.assign({ shardCrashes });
        }),
      },
    },
  });

  const actor = createActor(root, { clock, systemId: 'node-membership' });
  actor.subscribe({ error: (error) => logger.error({ err: error }, 'node membership actor failed') });
  actor.on('*', (event) => {
    for (const listener of listeners) safely(logger, () => listener(event as MembershipEvent));
  });
  actor.start();

  const shardRef = (index: number) => childOf(actor, shardId(index));
  const deliver = (nodeId: string, event: NodeEvent): boolean => {
    const index = known.get(nodeId);
    if (index === undefined) return false;
    const shard = shardRef(index);
    if (!shard) return true; // respawning: the node is rebuilt as unknown, a lost heartbeat is harmless
    // Straight to the node machine: it belongs to the shard, which only routes (one delivery
    // instead of two halves the per-heartbeat cost; bench/heartbeats.ts).
    const snapshot = shard.getSnapshot() as { children: Record<string, AnyActorRef | undefined>; context: ShardContext };
    const member = snapshot.context.members[nodeId];
    const child = member && snapshot.children[member.actorId];
    if (child) child.send(event);
    return true;
  };
  const views = (index: number): NodeView[] => {
    const shard = shardRef(index);
    if (!shard) return [];
    const snapshot = shard.getSnapshot() as { children: Record<string, AnyActorRef>; context: ShardContext };
    const live = Object.values(snapshot.children).map((child) => toView(child.getSnapshot().context as NodeContext));
    // A node that left keeps showing as left until its record is removed.
    const left = Object.keys(snapshot.context.left).map((nodeId): NodeView => ({ nodeId, status: 'left', availability: snapshot.context.records[nodeId] ?? 'active', heartbeats: 0, lastReport: undefined }));
    return [...live, ...left];
  };

  return {
    actor,
    sync: (records) => {
      known.clear();
      for (const record of records) known.set(record.id, shardOf(record.id, shards));
      actor.send({ type: 'SYNC', records });
    },
    heartbeat: (nodeId, report) => deliver(nodeId, { type: 'HEARTBEAT', report }),
    joined: (nodeId) => deliver(nodeId, { type: 'JOINED' }),
    leave: (nodeId) => deliver(nodeId, { type: 'LEAVE' }),
    // One node's view without building its shard's: the scheduler asks for every node's status
    // in every pass, and a shard-wide view per call made that O(nodes²) (1,000 nodes stalled the
    // leader's event loop for seconds; bench:cluster).
    node: (nodeId) => {
      const index = known.get(nodeId);
      const shard = index === undefined ? undefined : shardRef(index);
      if (!shard) return undefined;
      const snapshot = shard.getSnapshot() as { children: Record<string, AnyActorRef | undefined>; context: ShardContext };
      const member = snapshot.context.members[nodeId];
      const child = member && snapshot.children[member.actorId];
      if (child) return toView(child.getSnapshot().context as NodeContext);
      if (snapshot.context.left[nodeId]) return { nodeId, status: 'left', availability: snapshot.context.records[nodeId] ?? 'active', heartbeats: 0, lastReport: undefined };
      return undefined;
    },
    nodes: () => Array.from({ length: shards }, (_, i) => views(i)).flat().sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0)),
    counts: () => {
      const counts: Record<NodeStatus, number> = { joining: 0, unknown: 0, ready: 0, suspect: 0, down: 0, left: 0 };
      for (let i = 0; i < shards; i++) for (const view of views(i)) counts[view.status] += 1;
      return counts;
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: () => actor.stop(),
  };
}

function childOf(ref: AnyActorRef, id: string): AnyActorRef | undefined {
  return (ref.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children[id];
}

function toView(context: NodeContext): NodeView {
  return { nodeId: context.nodeId, status: context.status, availability: context.availability, heartbeats: context.heartbeats, lastReport: context.lastReport };
}
