import type { ClusterEvent } from './cluster-event-types.ts';
import type { EventLog } from './event-log.ts';
import { eventMatches, type EventFilterSpec } from './event-filter.ts';

/** Control frames of the event stream (events themselves go out as they are, with their index). */
export type StreamControl =
  | { readonly type: 'stream.hello'; readonly streamId: string; readonly firstIndex: number; readonly lastIndex: number }
  | { readonly type: 'stream.gap'; readonly from: number; readonly to: number; readonly message: string }
  | { readonly type: 'stream.reset'; readonly since: number; readonly lastIndex: number; readonly message: string };

/** One reader of the stream, whatever carries it (WebSocket or Server-Sent Events). */
export interface EventSink {
  event(event: ClusterEvent): void;
  control(frame: StreamControl): void;
  /** Bytes accepted but not yet written; a reader over the bound is cut off. */
  bufferedBytes(): number;
  cutOff(reason: string): void;
}

/** Unsent bytes past which a reader is cut off rather than buffered without bound. */
export const maxEventBacklogBytes = 4 * 1024 * 1024;

/**
 * Connects a reader: hello, then (with `since`) what it missed — a gap it cannot get back is
 * reported, never skipped silently — then live events. Backlog and subscription happen in one
 * synchronous step, so no event falls between them. Returns the unsubscribe function.
 */
export function subscribeEvents(log: EventLog, sink: EventSink, filter: EventFilterSpec, since: number | undefined, maxBufferedBytes = maxEventBacklogBytes): () => void {
  let open = true;
  let unsubscribe: () => void = () => undefined;
  const deliver = (event: ClusterEvent): void => {
    if (!open || !eventMatches(event, filter)) return;
    sink.event(event);
    if (sink.bufferedBytes() > maxBufferedBytes) {
      open = false;
      unsubscribe();
      sink.cutOff(`reader too slow: more than ${maxBufferedBytes} bytes unsent; resume with ?since=${event.index}`);
    }
  };
  sink.control({ type: 'stream.hello', streamId: log.streamId, firstIndex: log.firstIndex(), lastIndex: log.lastIndex() });
  if (since !== undefined) {
    const resumed = log.since(since);
    if (resumed.ahead) {
      sink.control({ type: 'stream.reset', since, lastIndex: log.lastIndex(), message: `index ${since} is beyond this stream's last (${log.lastIndex()}): the daemon restarted and indexes began again at 1; resume with ?since=0` });
    }
    if (resumed.gap) {
      sink.control({ type: 'stream.gap', ...resumed.gap, message: `events ${resumed.gap.from}–${resumed.gap.to} are no longer held (the history keeps the most recent ones); resuming at ${resumed.gap.to + 1}` });
    }
    for (const event of resumed.events) deliver(event);
  }
  if (open) unsubscribe = log.subscribe(deliver);
  return () => {
    open = false;
    unsubscribe();
  };
}
