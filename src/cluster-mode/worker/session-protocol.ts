import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ContainerView, ServiceStatus } from '../../actors/agent-types.ts';
import type { RolloutRecord, StackVersionRecord } from '../../cluster/rollout-records.ts';
import type { StackSpec } from '../../compose/types.ts';
import type { IngressListener } from '../../ingress/ingress-table.ts';

/**
 * The worker session: one WebSocket from a worker to a manager on the cluster port, modelled on
 * swarmkit's dispatcher. The manager streams the worker's assignments (only the stacks with a
 * replica placed on it, with only those services) as deltas, and the list of managers to fall
 * back to; the worker sends heartbeats that carry its container status only when it changed.
 *
 * Authentication, both ways, before any frame counts:
 * - the upgrade request is signed like every peer RPC (HMAC under the worker's own key over time,
 *   method, path and a body of `nodeId|clientNonce`), so an unauthenticated socket never opens;
 *   the manager refuses a client nonce it has already seen, so a captured upgrade does not replay;
 * - the manager's first frame proves it holds that key too (HMAC over the client nonce, the
 *   worker's id and its own), so a worker never runs what an impostor assigns it.
 */
export const WORKER_SESSION_PATH = '/cluster/worker-session';
export const SESSION_NODE_HEADER = 'x-constellation-node';
export const SESSION_NONCE_HEADER = 'x-constellation-nonce';
/** Frames are JSON; an assignment carries whole (filtered) stack specs. */
export const MAX_SESSION_FRAME_BYTES = 8 * 1024 * 1024;

/** One service's replica slots placed on the worker (slot → this node's id). */
export interface WorkerPlacement {
  readonly stackVersion: number;
  readonly version: number;
  readonly slots: Readonly<Record<string, string>>;
}

/** One stack as a worker sees it: the spec narrowed to the services with a slot on the worker. */
export interface WorkerStack {
  readonly name: string;
  readonly version: number;
  readonly specHash: string;
  readonly updatedAtMs: number;
  readonly spec: StackSpec;
  readonly placements: Readonly<Record<string, WorkerPlacement>>;
  /**
   * A rollout under way of the services this worker runs (only their parts), and the older
   * versions of those services it names: the worker's agent then runs each slot's version as a
   * manager's would (src/cluster/slot-versions.ts). Absent when no rollout touches the worker.
   */
  readonly rollout?: RolloutRecord;
  readonly history?: readonly StackVersionRecord[];
}

export interface ManagerAddress {
  readonly id: string;
  readonly address: string;
}

export type WorkerStatus = { readonly containers: readonly ContainerView[]; readonly services: readonly ServiceStatus[] };

/** Manager → worker. */
export type ManagerFrame =
  | { readonly t: 'welcome'; readonly managerId: string; readonly proof: string; readonly managers: readonly ManagerAddress[] }
  /** `full`: replaces everything the worker holds; else upserts and removals by stack name. */
  | { readonly t: 'assign'; readonly full: boolean; readonly upsert: readonly WorkerStack[]; readonly remove: readonly string[] }
  | { readonly t: 'managers'; readonly managers: readonly ManagerAddress[] }
  /**
   * The answer to a heartbeat: `needFull` asks for the whole status next time. `lease`: the
   * leader has heard the worker's beat number `lease`, and this manager's assignments (sent before
   * this frame) are caught up with what the leader had applied then — the worker's lease on its
   * at-most-once replicas runs from when it sent that beat (src/fencing/node-lease.ts).
   */
  | { readonly t: 'ack'; readonly needFull: boolean; readonly lease?: number }
  /**
   * The cluster's ingress table as this manager sees it (every published port with its ready
   * replicas at their nodes' addresses), sent when it changes: a worker forwards published ports
   * of services it does not run (src/ingress).
   */
  | { readonly t: 'ingress'; readonly listeners: readonly IngressListener[] };

/** Worker → manager. */
export type WorkerFrame = {
  readonly t: 'beat';
  readonly status?: WorkerStatus;
  /** The beat's number, so a lease ack names the beat whose send time the lease runs from. */
  readonly n?: number;
  /** The worker's engine does not answer: the leader does not count this beat (status-board.ts). */
  readonly engineDown?: boolean;
};

export function sessionBody(nodeId: string, clientNonce: string): string {
  return `${nodeId}|${clientNonce}`;
}

export function managerProof(key: string, clientNonce: string, nodeId: string, managerId: string): string {
  const hmac = createHmac('sha256', key).update('constellation-worker-session/v1|manager');
  for (const part of [clientNonce, nodeId, managerId]) hmac.update(`|${part.length}:${part}`);
  return hmac.digest('hex');
}

export function checkManagerProof(key: string, clientNonce: string, nodeId: string, managerId: string, proof: unknown): boolean {
  if (typeof proof !== 'string' || !/^[0-9a-f]{64}$/.test(proof)) return false;
  return timingSafeEqual(Buffer.from(managerProof(key, clientNonce, nodeId, managerId), 'hex'), Buffer.from(proof, 'hex'));
}

export class SessionFrameError extends Error {
  readonly code = 'session_frame_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'SessionFrameError';
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function managersOf(value: unknown, where: string): ManagerAddress[] {
  if (!Array.isArray(value)) throw new SessionFrameError(`${where}.managers must be an array`);
  return value.map((entry, index) => {
    if (!isObject(entry) || typeof entry.id !== 'string' || typeof entry.address !== 'string') throw new SessionFrameError(`${where}.managers[${index}] must be {id, address}`);
    return { id: entry.id, address: entry.address };
  });
}

function workerStackOf(value: unknown, index: number): WorkerStack {
  const where = `assign.upsert[${index}]`;
  if (!isObject(value)) throw new SessionFrameError(`${where} must be an object`);
  if (typeof value.name !== 'string' || typeof value.version !== 'number' || typeof value.specHash !== 'string' || typeof value.updatedAtMs !== 'number') {
    throw new SessionFrameError(`${where} needs name, version, specHash and updatedAtMs`);
  }
  const spec = value.spec;
  if (!isObject(spec) || spec.name !== value.name || !Array.isArray(spec.services)) throw new SessionFrameError(`${where}.spec must be the stack's spec with its services`);
  if (!isObject(value.placements)) throw new SessionFrameError(`${where}.placements must be an object`);
  for (const [service, placement] of Object.entries(value.placements)) {
    if (!isObject(placement) || typeof placement.stackVersion !== 'number' || typeof placement.version !== 'number' || !isObject(placement.slots)) {
      throw new SessionFrameError(`${where}.placements.${service} must be {stackVersion, version, slots}`);
    }
    for (const [slot, node] of Object.entries(placement.slots)) {
      if (!/^[1-9][0-9]*$/.test(slot) || typeof node !== 'string') throw new SessionFrameError(`${where}.placements.${service}.slots.${slot} must map a slot number to a node id`);
    }
  }
  // The spec's inner shape is the compose normalizer's output, written by the leader's API.
  return value as unknown as WorkerStack;
}

function ingressListenerOf(value: unknown, index: number): IngressListener {
  const where = `ingress.listeners[${index}]`;
  if (!isObject(value) || typeof value.key !== 'string' || (value.protocol !== 'tcp' && value.protocol !== 'udp') || typeof value.published !== 'number'
    || typeof value.stack !== 'string' || typeof value.service !== 'string' || typeof value.target !== 'number' || !Array.isArray(value.backends)
    || (value.hostIp !== undefined && typeof value.hostIp !== 'string')) {
    throw new SessionFrameError(`${where} needs key, protocol (tcp|udp), published, stack, service, target and backends[]`);
  }
  value.backends.forEach((backend: unknown, b) => {
    if (!isObject(backend) || typeof backend.host !== 'string' || typeof backend.port !== 'number' || typeof backend.replica !== 'string' || typeof backend.node !== 'string') {
      throw new SessionFrameError(`${where}.backends[${b}] must be {host, port, replica, node}`);
    }
  });
  return value as unknown as IngressListener;
}

/** Parses a manager's frame; the error names the first field that is wrong. */
export function parseManagerFrame(text: string): ManagerFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SessionFrameError('frame is not JSON');
  }
  if (!isObject(value)) throw new SessionFrameError('frame must be an object');
  switch (value.t) {
    case 'welcome':
      if (typeof value.managerId !== 'string' || typeof value.proof !== 'string') throw new SessionFrameError('welcome needs managerId and proof');
      return { t: 'welcome', managerId: value.managerId, proof: value.proof, managers: managersOf(value.managers, 'welcome') };
    case 'assign': {
      if (typeof value.full !== 'boolean' || !Array.isArray(value.upsert) || !Array.isArray(value.remove)) throw new SessionFrameError('assign needs full, upsert[] and remove[]');
      const remove = value.remove.map((name, index) => {
        if (typeof name !== 'string') throw new SessionFrameError(`assign.remove[${index}] must be a stack name`);
        return name;
      });
      return { t: 'assign', full: value.full, upsert: value.upsert.map(workerStackOf), remove };
    }
    case 'managers':
      return { t: 'managers', managers: managersOf(value.managers, 'managers') };
    case 'ack':
      if (typeof value.needFull !== 'boolean') throw new SessionFrameError('ack needs needFull');
      if (value.lease !== undefined && !isBeatNumber(value.lease)) throw new SessionFrameError('ack.lease must be a beat number');
      return { t: 'ack', needFull: value.needFull, ...(value.lease === undefined ? {} : { lease: value.lease as number }) };
    case 'ingress':
      if (!Array.isArray(value.listeners)) throw new SessionFrameError('ingress needs listeners[]');
      return { t: 'ingress', listeners: value.listeners.map(ingressListenerOf) };
    default:
      throw new SessionFrameError(`unknown frame type ${JSON.stringify(value.t)}`);
  }
}

/** Parses a worker's frame; the error names the first field that is wrong. */
export function parseWorkerFrame(text: string): WorkerFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SessionFrameError('frame is not JSON');
  }
  if (!isObject(value) || value.t !== 'beat') throw new SessionFrameError('a worker sends only {t: "beat", status?, n?}');
  if (value.n !== undefined && !isBeatNumber(value.n)) throw new SessionFrameError('beat.n must be a non-negative integer');
  if (value.engineDown !== undefined && typeof value.engineDown !== 'boolean') throw new SessionFrameError('beat.engineDown must be a boolean');
  const n = { ...(value.n === undefined ? {} : { n: value.n as number }), ...(value.engineDown === true ? { engineDown: true } : {}) };
  if (value.status === undefined) return { t: 'beat', ...n };
  const status = value.status;
  if (!isObject(status) || !Array.isArray(status.containers) || !Array.isArray(status.services)) throw new SessionFrameError('beat.status must be {containers: [], services: []}');
  return { t: 'beat', status: status as unknown as WorkerStatus, ...n };
}

function isBeatNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
