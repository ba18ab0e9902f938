/**
 * The frames of `@statelyai/inspect`'s wire format (protocol 0.7.x): one JSON text frame per
 * actor registration, event and snapshot, so its receiver and stately.ai/inspect read our stream.
 * `createdAt` is milliseconds since the epoch as a string; `sessionId` names the actor the frame
 * is about (for an event: its target); `rootId` the root actor of its system.
 */
export const inspectProtocolVersion = '0.7.1';

interface BaseFrame {
  readonly sessionId: string;
  readonly rootId: string | undefined;
  readonly createdAt: string;
  /** Unique per frame of this daemon: a viewer can tell a replayed frame from a repeated one. */
  readonly id: string;
  readonly _version: string;
}

export interface ActorFrame extends BaseFrame {
  readonly type: '@xstate.actor';
  /** The machine's id (for spawned non-machine actors: their actor id). */
  readonly name: string;
  readonly parentId: string | undefined;
  /** The machine config as a JSON string (what stately.ai/inspect draws). */
  readonly definition: string | undefined;
  readonly snapshot: unknown;
}

export interface EventFrame extends BaseFrame {
  readonly type: '@xstate.event';
  readonly event: unknown;
  readonly sourceId: string | undefined;
}

export interface SnapshotFrame extends BaseFrame {
  readonly type: '@xstate.snapshot';
  readonly event: unknown;
  readonly snapshot: unknown;
}

export type InspectionFrame = ActorFrame | EventFrame | SnapshotFrame;

/**
 * Our addition, ignored by Stately's tools (they read only `@xstate.*`): tells a viewer that the
 * replay of live actors is complete and what the filter kept. Actor kinds ride along in
 * `@xstate.actor` frames as `kind` (an extra field, also ignored by them).
 */
export interface ReplayDoneFrame {
  readonly type: '@constellation.replayed';
  readonly actors: number;
  readonly createdAt: string;
}
