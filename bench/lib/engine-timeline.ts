import Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import { parseEngineEvent } from '../../src/adapters/docker/event-stream.ts';
import { JsonLineSplitter } from '../../src/adapters/docker/json-lines.ts';

export interface EngineTimeline {
  /** Seconds from the deploy command to the engine's first container create. */
  readonly firstCreate?: number;
  /** Seconds to the last container start: when the engine's part was done. */
  readonly lastStart?: number;
  readonly creates: number;
  readonly starts: number;
}

/**
 * Where the time went, from the engine's own record: its event log replayed between two instants
 * (GET /events with since/until), so nothing depends on a live subscription racing the deploy.
 */
export async function engineTimeline(socketPath: string, fromMs: number, toMs: number): Promise<EngineTimeline> {
  const docker = new Dockerode({ socketPath });
  const stream = (await docker.getEvents({
    since: Math.floor(fromMs) / 1000,
    until: Math.ceil(toMs / 1000) + 1,
    filters: { type: ['container'] },
  })) as unknown as Readable;
  const creates: number[] = [];
  const starts: number[] = [];
  const splitter = new JsonLineSplitter(
    (value) => {
      const event = parseEngineEvent(value);
      if (event?.action === 'create') creates.push(event.timeMs);
      if (event?.action === 'start') starts.push(event.timeMs);
    },
    () => undefined,
  );
  for await (const chunk of stream) splitter.push(chunk as Buffer);
  splitter.end();
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : (ms - fromMs) / 1000);
  const firstCreate = seconds(creates.length > 0 ? Math.min(...creates) : undefined);
  const lastStart = seconds(starts.length > 0 ? Math.max(...starts) : undefined);
  return {
    ...(firstCreate !== undefined ? { firstCreate } : {}),
    ...(lastStart !== undefined ? { lastStart } : {}),
    creates: creates.length,
    starts: starts.length,
  };
}
