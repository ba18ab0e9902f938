import { fromCallback } from 'xstate';
import type { ContainerRuntime, RuntimeEvent } from '../seams/container-runtime.ts';

export type EngineWatchEvent =
  | { readonly type: 'engine.event'; readonly event: RuntimeEvent }
  | { readonly type: 'engine.stream-ended'; readonly error?: string };

/**
 * The engine's event stream as a callback actor: engine traffic enters the system as events sent
 * back to the agent (never as a synchronous cascade inside the engine's callback), and stopping
 * the actor closes the stream.
 */
export function engineWatchLogic(runtime: ContainerRuntime) {
  return fromCallback<{ type: 'noop' }>(({ sendBack }) => {
    let ended = false;
    const end = (error?: Error) => {
      if (ended) return;
      ended = true;
      sendBack({ type: 'engine.stream-ended', ...(error ? { error: error.message } : {}) } satisfies EngineWatchEvent);
    };
    let subscription: { close(): void } | undefined;
    try {
      subscription = runtime.events((event) => {
        if (!ended) sendBack({ type: 'engine.event', event } satisfies EngineWatchEvent);
      }, end);
    } catch (error) {
      end(error instanceof Error ? error : new Error(String(error)));
    }
    return () => {
      ended = true;
      try {
        subscription?.close();
      } catch {
        // Closing a broken stream may throw; it is gone either way.
      }
    };
  });
}
