import Dockerode from 'dockerode';
import { appendFileSync } from 'node:fs';
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

export interface TimelineRecorder {
  /** Waits (bounded) until `expectedStarts` starts were seen, closes the stream, and summarises. */
  finish(expectedStarts: number): Promise<EngineTimeline>;
}

/**
 * Records container creates and starts from the engine's event stream while a deploy runs.
 * The stream is opened with `since` = the deploy's start, so an event that happens while the
 * subscription is being set up is replayed rather than lost. (A pure after-the-fact replay does
 * not work: dockerd keeps only its last 256 events, fewer than 100 replicas produce.)
 */
export async function recordEngineTimeline(socketPath: string, fromMs: number): Promise<TimelineRecorder> {
  const docker = new Dockerode({ socketPath });
  const stream = (await docker.getEvents({ since: Math.floor(fromMs) / 1000, filters: { type: ['container'] } })) as unknown as Readable;
  const creates: number[] = [];
  const starts: number[] = [];
  const raw: { action: string; id: string; timeMs: number }[] = [];
  let onStart: (() => void) | undefined;
  const splitter = new JsonLineSplitter(
    (value) => {
      const event = parseEngineEvent(value);
      if (event !== undefined) raw.push({ action: event.action, id: event.containerId.slice(0, 12), timeMs: event.timeMs });
      if (event?.action === 'create') creates.push(event.timeMs);
      if (event?.action === 'start') {
        starts.push(event.timeMs);
        onStart?.();
      }
    },
    () => undefined,
  );
  stream.on('data', (chunk: Buffer) => splitter.push(chunk));
  stream.on('error', () => undefined); // destroyed by finish(); nothing else to do
  return {
    async finish(expectedStarts) {
      if (starts.length < expectedStarts) {
        // The last start event may trail the "all running" observation by a few milliseconds.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          onStart = () => {
            if (starts.length >= expectedStarts) {
              clearTimeout(timer);
              resolve();
            }
          };
        });
      }
      stream.destroy();
      // BENCH_TIMELINE_FILE=FILE appends every container event (ms since the deploy began), for diagnosis.
      if (process.env.BENCH_TIMELINE_FILE) {
        appendFileSync(process.env.BENCH_TIMELINE_FILE, raw.map((e) => `${e.timeMs - fromMs} ${e.action} ${e.id}`).join('\n') + '\n---\n');
      }
      const seconds = (ms: number | undefined) => (ms === undefined ? undefined : (ms - fromMs) / 1000);
      const firstCreate = seconds(creates.length > 0 ? Math.min(...creates) : undefined);
      const lastStart = seconds(starts.length > 0 ? Math.max(...starts) : undefined);
      return {
        ...(firstCreate !== undefined ? { firstCreate } : {}),
        ...(lastStart !== undefined ? { lastStart } : {}),
        creates: creates.length,
        starts: starts.length,
      };
    },
  };
}
