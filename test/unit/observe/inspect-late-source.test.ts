import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/create-logger.ts';
import { InspectionHub, type InspectionViewer } from '../../../src/observe/inspection-hub.ts';
import { createRedactor } from '../../../src/observe/redaction.ts';
import { startNodeMembership, type NodeMembership } from '../../../src/actors/node-membership.ts';
import { VirtualClock } from '../../../src/sim/virtual-clock.ts';

// The node machines run only while a daemon leads, as a system that starts and stops with each
// term: the inspector adds it to viewers already watching and drops it when it stops.
let membership: NodeMembership | undefined;
afterEach(() => membership?.stop());

function recordingViewer() {
  const frames: Record<string, unknown>[] = [];
  const viewer: InspectionViewer = {
    send: (frame) => frames.push(JSON.parse(frame.toString('utf8')) as Record<string, unknown>),
    bufferedBytes: () => 0,
    cutOff: () => undefined,
  };
  return { viewer, frames };
}

describe('a system that starts after viewers connected (node membership)', () => {
  it('reaches connected viewers as actor frames, is filterable by kind, counted by kind, and detached when removed', async () => {
    const hub = new InspectionHub({ sources: [], redactor: createRedactor([]), wallClockMs: () => 0, logger: pino({ level: 'silent' }) });
    const all = recordingViewer();
    const nodesOnly = recordingViewer();
    hub.connect(all.viewer, { kinds: [], idPrefixes: [] });
    hub.connect(nodesOnly.viewer, { kinds: ['node'], idPrefixes: [] });
    expect(hub.attachedObservers()).toBe(0);

    const clock = new VirtualClock();
    membership = startNodeMembership({ clock, logger: createLogger({ level: 'silent', format: 'json' }), nodes: [{ id: 'n1', availability: 'active' }, { id: 'n2', availability: 'active' }], shards: 2 });
    hub.addSource({ root: membership.actor });
    expect(hub.attachedObservers()).toBe(1);
    const actors = (frames: Record<string, unknown>[]) => frames.filter((frame) => frame.type === '@xstate.actor').map((frame) => `${String(frame.kind)}:${String(frame.name)}`);
    // The tree: membership root → shards → one node machine per node.
    expect(actors(all.frames).filter((actor) => actor.startsWith('node:'))).toHaveLength(2);
    expect(actors(all.frames).filter((actor) => actor.startsWith('shard:'))).toHaveLength(2);
    expect(actors(nodesOnly.frames).every((actor) => actor.startsWith('node:'))).toBe(true);
    expect(actors(nodesOnly.frames)).toHaveLength(2);
    expect(hub.actorCountsByKind().get('node')).toBe(2);

    // Live: a heartbeat moves n1's machine, and the viewers see its snapshot.
    const before = all.frames.length;
    membership.heartbeat('n1');
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(all.frames.slice(before).some((frame) => frame.type === '@xstate.snapshot')).toBe(true);

    hub.removeSource(membership.actor);
    expect(hub.attachedObservers()).toBe(0);
    expect(hub.actorCountsByKind().get('node')).toBeUndefined();
  });
});
