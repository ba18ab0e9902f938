import { type AnyActorLogic, type AnyActorRef, enqueueActions, sendParent, setup } from 'xstate';
import type { Logger } from 'pino';
import { nodeMachine } from '../machines/node.ts';
import type { NodeAvailability, NodeChange } from '../machines/node-types.ts';
import type { NodeTiming } from '../machines/node-timing.ts';
import type { MembershipRecord, ShardEvent, ShardInput, ShardReport } from './node-membership-types.ts';
import { describeError, respawnDelayMs } from './supervision.ts';

interface Member {
  readonly actorId: string;
  readonly availability: NodeAvailability;
}

export interface ShardContext {
  readonly index: number;
  /** The records this shard is responsible for: what it converges to (level-triggered). */
  records: Record<string, NodeAvailability>;
  /** Running node machines by node id. */
  members: Record<string, Member>;
  /** Nodes whose machine reached `left` while their record still exists: not respawned. */
  left: Record<string, true>;
  crashCounts: Record<string, number>;
  generation: number;
}

export interface ShardDeps {
  readonly timing: NodeTiming;
  readonly logger: Logger;
  /** Tests swap in a node logic that fails on cue; production uses the node machine. */
  readonly nodeLogic?: typeof nodeMachine;
}

/**
 * One shard of the membership: the parent of at most a few hundred node machines (XState copies a
 * parent's children object on every spawn and stop, so one parent per thousand nodes would make
 * membership changes quadratic). It converges its children to its records and passes their
 * reports up; heartbeats go straight to the node machines (node-membership.ts), not through it.
 *
 * Supervision: a node machine that finishes reached `left` (kept as a tombstone so a later SYNC
 * with the record still present does not bring it back). One that fails hit a bug: stop it, tell
 * the parent, and respawn it after the back-off of supervision.ts as `unknown`, so it is ready on
 * its next heartbeat or down after one grace — never down just because it was respawned.
 * Every handler catches what it throws (logged) and leaves the context as it was.
 */
export function createShardLogic(deps: ShardDeps) {
  const { logger, timing } = deps;
  const nodeLogic = (deps.nodeLogic ?? nodeMachine).provide({
    actions: { report: sendParent((_: unknown, change: NodeChange) => change) as never },
  });

  type Enqueue = {
    assign(update: Partial<ShardContext>): void;
    spawnChild(src: 'node', options: { id: string; input: unknown }): void;
    stopChild(id: string): void;
    sendTo(ref: AnyActorRef, event: unknown): void;
    sendParent(event: ShardReport): void;
    raise(event: ShardEvent, options?: { delay?: number }): void;
  };
  type Args<E> = { context: ShardContext; event: E; enqueue: Enqueue; self: AnyActorRef };

  // The enqueue wrapper is typed here; setup's generics cannot follow it, hence the `any` return.
  function act<E extends { type: string }>(fn: (args: Args<E>) => void): any {
    return enqueueActions(({ context, event, enqueue, self }: any) => {
      const wrapped: Enqueue = {
        assign: (update) => enqueue.assign(update),
        spawnChild: (src, options) => enqueue.spawnChild(src, options),
        stopChild: (id) => enqueue.stopChild(id),
        sendTo: (ref, e) => enqueue.sendTo(ref, e),
        sendParent: (e) => enqueue.sendParent(e),
        raise: (e, options) => enqueue.raise(e, options),
      };
      try {
        fn({ context, event: event as E, enqueue: wrapped, self });
      } catch (error) {
        logger.error({ err: error, event: (event as { type: string }).type, shard: context.index }, 'membership shard handler failed; state left as it was');
      }
    });
  }

  function spawn(context: ShardContext, nodeId: string, availability: NodeAvailability, startAs: 'joining' | 'unknown', enqueue: Enqueue): Member {
    const actorId = `node:${nodeId}#${context.generation}`;
    context.generation += 1;
    enqueue.spawnChild('node', { id: actorId, input: { nodeId, timing, startAs, availability } });
    return { actorId, availability };
  }

  /** Converge children to `records`; new nodes start as `startAs`. Works on copies, assigns once. */
  function converge(context: ShardContext, records: Record<string, NodeAvailability>, startAs: 'joining' | 'unknown', enqueue: Enqueue, self: AnyActorRef): void {
    const next: ShardContext = { ...context, records, members: { ...context.members }, left: { ...context.left } };
    for (const [nodeId, member] of Object.entries(context.members)) {
      if (nodeId in records) continue;
      enqueue.stopChild(member.actorId);
      delete next.members[nodeId];
      enqueue.sendParent({ type: 'node.removed', nodeId });
    }
    for (const nodeId of Object.keys(context.left)) if (!(nodeId in records)) delete next.left[nodeId];
    for (const [nodeId, availability] of Object.entries(records)) {
      const member = next.members[nodeId];
      if (member === undefined) {
        if (!next.left[nodeId]) next.members[nodeId] = spawn(next, nodeId, availability, startAs, enqueue);
      } else if (member.availability !== availability) {
        const ref = childRef(self, member.actorId);
        if (ref) enqueue.sendTo(ref, { type: 'SET_AVAILABILITY', availability });
        next.members[nodeId] = { ...member, availability };
      }
    }
    enqueue.assign(next);
  }

  const memberOf = (context: ShardContext, actorId: string) => Object.entries(context.members).find(([, m]) => m.actorId === actorId)?.[0];

  return setup({
    types: { context: {} as ShardContext, events: {} as ShardEvent, input: {} as ShardInput },
    actors: { node: nodeLogic as unknown as AnyActorLogic },
  }).createMachine({
    id: 'membership-shard',
    context: ({ input }) => ({ index: input.index, records: {}, members: {}, left: {}, crashCounts: {}, generation: 0 }),
    entry: act<any>(({ context, enqueue, self, event }) => {
      const input = (event as { input: ShardInput }).input;
      converge(context, recordMap(input.records), input.startAs, enqueue, self);
    }),
    on: {
      SYNC: { actions: act<Extract<ShardEvent, { type: 'SYNC' }>>(({ context, event, enqueue, self }) => converge(context, recordMap(event.records), 'joining', enqueue, self)) },
      'node.status': { actions: act<NodeChange>(({ event, enqueue }) => enqueue.sendParent(event)) },
      'node.availability': { actions: act<NodeChange>(({ event, enqueue }) => enqueue.sendParent(event)) },
      respawn: {
        actions: act<Extract<ShardEvent, { type: 'respawn' }>>(({ context, event, enqueue }) => {
          const availability = context.records[event.nodeId];
          if (availability === undefined || context.members[event.nodeId] || context.left[event.nodeId]) return;
          const next = { ...context, members: { ...context.members } };
          next.members[event.nodeId] = spawn(next, event.nodeId, availability, 'unknown', enqueue);
          enqueue.assign(next);
        }),
      },
      'xstate.done.actor.*': {
        actions: act<{ type: string; actorId: string }>(({ context, event, enqueue }) => {
          const nodeId = memberOf(context, event.actorId);
          enqueue.stopChild(event.actorId);
          if (nodeId === undefined) return;
          const members = { ...context.members };
          delete members[nodeId];
          enqueue.assign({ members, left: { ...context.left, [nodeId]: true } });
        }),
      },
      'xstate.error.actor.*': {
        actions: act<{ type: string; actorId: string; error: unknown }>(({ context, event, enqueue }) => {
          const nodeId = memberOf(context, event.actorId);
          enqueue.stopChild(event.actorId);
          if (nodeId === undefined) return;
          const error = describeError(event.error);
          logger.error({ nodeId, error }, 'node machine failed; respawning it as unknown');
          const crashes = (context.crashCounts[nodeId] ?? 0) + 1;
          const members = { ...context.members };
          delete members[nodeId];
          enqueue.sendParent({ type: 'node.crashed', nodeId, error });
          enqueue.raise({ type: 'respawn', nodeId }, { delay: respawnDelayMs(crashes) });
          enqueue.assign({ members, crashCounts: { ...context.crashCounts, [nodeId]: crashes } });
        }),
      },
    },
  });
}

function recordMap(records: readonly MembershipRecord[]): Record<string, NodeAvailability> {
  const map: Record<string, NodeAvailability> = {};
  for (const record of records) map[record.id] = record.availability ?? 'active';
  return map;
}

function childRef(self: AnyActorRef, actorId: string): AnyActorRef | undefined {
  return (self.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children[actorId];
}

export type ShardLogic = ReturnType<typeof createShardLogic>;
