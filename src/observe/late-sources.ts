import type { AnyActorRef } from 'xstate';
import type { InspectionHub } from './inspection-hub.ts';

/**
 * Actors that come and go while the daemon runs (a rollout machine per service rollout, each its
 * own actor system), made inspector sources for as long as they live. Machines may start before
 * the hub exists (a rollout resumed at start-up), so the live ones are kept and handed over when
 * the hub attaches.
 */
export class LateSources {
  private readonly live = new Set<AnyActorRef>();
  private hub: Pick<InspectionHub, 'addSource' | 'removeSource'> | undefined;

  readonly follow = (actor: AnyActorRef, live: boolean): void => {
    if (live) {
      this.live.add(actor);
      this.hub?.addSource({ root: actor });
    } else if (this.live.delete(actor)) {
      this.hub?.removeSource(actor);
    }
  };

  attach(hub: Pick<InspectionHub, 'addSource' | 'removeSource'>): void {
    this.hub = hub;
    for (const actor of this.live) hub.addSource({ root: actor });
  }
}
