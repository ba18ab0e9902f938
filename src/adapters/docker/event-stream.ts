import type { Readable } from 'node:stream';
import type { HealthState, RuntimeEvent, RuntimeEventAction } from '../../seams/container-runtime.ts';
import { JsonLineSplitter } from './json-lines.ts';

const knownActions: ReadonlySet<string> = new Set<RuntimeEventAction>([
  'create', 'start', 'die', 'stop', 'kill', 'destroy', 'oom', 'pause', 'unpause', 'restart', 'health_status',
]);

/** Attributes the engine adds to an event's Actor beside the container's own labels. */
const engineAttributes = new Set(['name', 'image', 'exitCode', 'signal', 'execID', 'execDuration']);

interface EngineEvent {
  readonly Type?: string;
  readonly Action?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Record<string, string> };
  readonly id?: string;
  readonly time?: number;
  readonly timeNano?: number;
}

function toHealth(text: string): HealthState | undefined {
  return text === 'healthy' || text === 'unhealthy' || text === 'starting' ? text : undefined;
}

/**
 * One engine event as a RuntimeEvent, or undefined for events we do not model
 * (non-container objects, exec_*, attach, copy, ...).
 */
export function parseEngineEvent(raw: unknown): RuntimeEvent | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const event = raw as EngineEvent;
  if (event.Type !== undefined && event.Type !== 'container') return undefined;
  // "health_status: healthy" carries the new state after the colon.
  const [actionName = '', detail] = (event.Action ?? '').split(/:\s*/, 2);
  if (!knownActions.has(actionName)) return undefined;
  const containerId = event.Actor?.ID ?? event.id;
  if (containerId === undefined) return undefined;
  const attributes = event.Actor?.Attributes ?? {};
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!engineAttributes.has(key)) labels[key] = value;
  }
  const timeMs = event.timeNano !== undefined ? Math.floor(event.timeNano / 1e6) : (event.time ?? 0) * 1000;
  const exitCodeText = attributes.exitCode;
  const exitCode = exitCodeText !== undefined && /^-?\d+$/.test(exitCodeText) ? Number(exitCodeText) : undefined;
  const health = actionName === 'health_status' && detail !== undefined ? toHealth(detail.trim()) : undefined;
  return {
    action: actionName as RuntimeEventAction,
    containerId,
    labels,
    timeMs,
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(health !== undefined ? { health } : {}),
  };
}

export interface EventStreamHandlers {
  readonly onEvent: (event: RuntimeEvent) => void;
  /** Called at most once, when the stream ends or fails; not after `close()`. */
  readonly onEnd: (error?: Error) => void;
}

/**
 * Follows the engine's /events stream. Ends are reported once, whatever combination of
 * 'error', 'end' and 'close' the socket produces (a dockerd restart gives several).
 */
export class EventStreamFollower {
  private ended = false;
  private closedByUs = false;
  private stream: Readable | undefined;
  private readonly splitter: JsonLineSplitter;

  constructor(private readonly handlers: EventStreamHandlers) {
    this.splitter = new JsonLineSplitter(
      (value) => {
        const event = parseEngineEvent(value);
        if (event !== undefined && !this.ended && !this.closedByUs) this.deliver(event);
      },
      // A corrupt line means the framing is lost: end the stream so the caller re-lists.
      (line, error) => this.finish(new Error(`unreadable Docker event ${JSON.stringify(line.slice(0, 200))}: ${error.message}`)),
    );
  }

  attach(stream: Readable): void {
    if (this.closedByUs || this.ended) {
      stream.destroy();
      return;
    }
    this.stream = stream;
    stream.on('data', (chunk: Buffer | string) => this.splitter.push(chunk));
    stream.on('error', (error: Error) => this.finish(error));
    // A clean end (dockerd shut down) reports no error; a broken socket reports its error.
    stream.on('end', () => {
      this.splitter.end();
      this.finish(undefined);
    });
    stream.on('close', () => this.finish(undefined));
  }

  /** The subscription could not even be opened. */
  fail(error: Error): void {
    this.finish(error);
  }

  close(): void {
    if (this.closedByUs) return;
    this.closedByUs = true;
    this.stream?.destroy();
  }

  private deliver(event: RuntimeEvent): void {
    try {
      this.handlers.onEvent(event);
    } catch {
      // A listener's bug must not kill the stream for everyone; listeners own their errors.
    }
  }

  private finish(error: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.stream?.destroy();
    if (!this.closedByUs) this.handlers.onEnd(error);
  }
}
