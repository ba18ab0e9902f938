import type { ServiceSpec } from '../compose/types.ts';
import type { CommandResult, NodeRecord, PlaceServiceCommand } from './commands.ts';
import { emptyDictionary } from './dictionary.ts';
import { deliveryMode } from '../orchestrator/failover/delivery-mode.ts';

/** Where one service's replicas run, as the leader decided it through the log. */
export interface PlacementRecord {
  readonly stack: string;
  readonly service: string;
  /** The stack version the decision was made for. */
  readonly stackVersion: number;
  /** Replica slot (1-based, decimal) → node id. */
  readonly slots: Readonly<Record<string, string>>;
  /** Bumped on every change of this service's placement while its stack exists. */
  readonly version: number;
  /**
   * Fencing token per slot: the log index of the entry that put the slot on its current node
   * (a committed index is unique, so it needs no term beside it). Kept while the slot stays on
   * its node; a node refuses to start a slot whose token is older than one it has seen.
   * Absent in records written before fencing existed (token 0).
   */
  readonly tokens?: Readonly<Record<string, number>>;
  /**
   * Start-first moves in flight: slot → the node that runs a second copy of the slot beside the
   * one on `slots[slot]` until the leader sees it running and moves the slot there. Only for
   * at-least-once replicated services (two copies at once is what at-most-once forbids).
   */
  readonly moving?: Readonly<Record<string, string>>;
}

/** The fencing token of a slot (0 for records from before tokens existed). */
export function fencingToken(record: PlacementRecord, slot: string): number {
  return record.tokens && Object.hasOwn(record.tokens, slot) ? record.tokens[slot]! : 0;
}

/** stack name → service name → placement; both levels prototype-free (see dictionary.ts). */
export type PlacementTable = Record<string, Record<string, PlacementRecord>>;

interface PlacementContext {
  readonly stackVersion: number | undefined;
  readonly service: ServiceSpec | undefined;
  readonly nodes: Readonly<Record<string, NodeRecord>>;
}

const refuse = (code: string, message: string): CommandResult => ({ ok: false, code, message });

/**
 * Checks a placement against the state it would apply to. Every refusal is deterministic, so all
 * members refuse the same entry alike and the state stays identical everywhere.
 */
export function placementProblem(command: PlaceServiceCommand, context: PlacementContext): CommandResult | undefined {
  const where = `${command.stack}/${command.service}`;
  if (context.stackVersion === undefined) return refuse('stack_not_found', `no stack named "${command.stack}"`);
  if (!context.service) return refuse('service_not_found', `stack "${command.stack}" has no service "${command.service}"`);
  if (command.stackVersion !== context.stackVersion) {
    return refuse('stale_placement', `placement of ${where} was decided for stack version ${command.stackVersion}, the stack is at version ${context.stackVersion}`);
  }
  const slots = command.slots as unknown;
  if (typeof slots !== 'object' || slots === null || Array.isArray(slots)) return refuse('invalid_placement', `placement of ${where}: slots must be an object of slot → node id`);
  const deploy = context.service.deploy;
  const seenNodes = new Set<string>();
  for (const [slotText, nodeId] of Object.entries(slots)) {
    const slot = Number(slotText);
    if (!/^[1-9][0-9]*$/.test(slotText) || !Number.isSafeInteger(slot)) return refuse('invalid_placement', `placement of ${where}: slot "${slotText}" is not a positive integer`);
    if (deploy.mode === 'replicated' && slot > deploy.replicas) {
      return refuse('invalid_placement', `placement of ${where}: slot ${slot} is beyond the service's ${deploy.replicas} replica(s)`);
    }
    if (typeof nodeId !== 'string' || !Object.hasOwn(context.nodes, nodeId)) return refuse('node_not_found', `placement of ${where}: slot ${slot} names unknown node "${String(nodeId)}"`);
    if (deploy.mode === 'global' && seenNodes.has(nodeId)) return refuse('invalid_placement', `placement of ${where}: a global service runs once per node, node "${nodeId}" is named twice`);
    seenNodes.add(nodeId);
  }
  return movingProblem(command, context, where);
}

function movingProblem(command: PlaceServiceCommand, context: PlacementContext, where: string): CommandResult | undefined {
  const moving = command.moving as unknown;
  if (moving === undefined) return undefined;
  if (typeof moving !== 'object' || moving === null || Array.isArray(moving)) return refuse('invalid_placement', `placement of ${where}: moving must be an object of slot → node id`);
  const entries = Object.entries(moving);
  if (entries.length === 0) return undefined;
  // Two copies of a slot at once is exactly what at-most-once forbids; a global service has no
  // slot to move. Refused here too, so no leader's bug can make every member apply it.
  if (context.service!.deploy.mode !== 'replicated' || deliveryMode(context.service!) === 'at-most-once') {
    return refuse('invalid_placement', `placement of ${where}: only replicated at-least-once services move start-first`);
  }
  for (const [slot, nodeId] of entries) {
    if (!Object.hasOwn(command.slots, slot)) return refuse('invalid_placement', `placement of ${where}: moving slot "${slot}" is not placed`);
    if (typeof nodeId !== 'string' || !Object.hasOwn(context.nodes, nodeId)) return refuse('node_not_found', `placement of ${where}: slot ${slot} moves to unknown node "${String(nodeId)}"`);
    if (command.slots[slot] === nodeId) return refuse('invalid_placement', `placement of ${where}: slot ${slot} moves to the node it is on`);
  }
  return undefined;
}

/** The record after `command`, or the previous one itself when nothing changes (an idempotent retry). */
export function nextPlacement(command: PlaceServiceCommand, previous: PlacementRecord | undefined, index = 0): PlacementRecord {
  // Slot keys are integer-like, so every member serializes them in the same (ascending) order.
  const slots = { ...command.slots };
  const moving = command.moving && Object.keys(command.moving).length > 0 ? { ...command.moving } : undefined;
  if (previous && previous.stackVersion === command.stackVersion && sameSlots(previous.slots, slots) && sameSlots(previous.moving ?? {}, moving ?? {})) return previous;
  const tokens: Record<string, number> = {};
  for (const [slot, node] of Object.entries(slots)) tokens[slot] = previous && Object.hasOwn(previous.slots, slot) && previous.slots[slot] === node ? fencingToken(previous, slot) : index;
  return { stack: command.stack, service: command.service, stackVersion: command.stackVersion, slots, version: (previous?.version ?? 0) + 1, tokens, ...(moving ? { moving } : {}) };
}

/**
 * After a redeploy, keeps only what still fits the new spec: services that still exist and slots
 * within their replica count. The scheduler re-places from there; nothing points at a replica
 * that no longer exists.
 */
export function trimPlacements(placements: Record<string, PlacementRecord> | undefined, services: readonly ServiceSpec[]): Record<string, PlacementRecord> | undefined {
  if (!placements) return undefined;
  const kept = emptyDictionary<PlacementRecord>();
  for (const spec of services) {
    const record = placements[spec.name];
    if (!record) continue;
    const deploy = spec.deploy;
    const slots = deploy.mode === 'replicated' ? Object.fromEntries(Object.entries(record.slots).filter(([slot]) => Number(slot) <= deploy.replicas)) : record.slots;
    const tokens = record.tokens ? Object.fromEntries(Object.entries(record.tokens).filter(([slot]) => Object.hasOwn(slots, slot))) : undefined;
    if (sameSlots(slots, record.slots)) {
      kept[spec.name] = record;
      continue;
    }
    const { moving: movingBefore, ...rest } = record;
    const moving = movingBefore ? Object.fromEntries(Object.entries(movingBefore).filter(([slot]) => Object.hasOwn(slots, slot))) : {};
    kept[spec.name] = { ...rest, slots, version: record.version + 1, ...(tokens ? { tokens } : {}), ...(Object.keys(moving).length > 0 ? { moving } : {}) };
  }
  return Object.keys(kept).length > 0 ? kept : undefined;
}

function sameSlots(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const aKeys = Object.keys(a);
  return aKeys.length === Object.keys(b).length && aKeys.every((slot) => b[slot] === a[slot]);
}
