import type { AnyActorRef } from 'xstate';
import { actorId, actorKind, parentOf } from './actor-description.ts';

/** What a viewer asked to see: actor kinds and/or id prefixes (empty: everything). */
export interface ActorFilterSpec {
  readonly kinds: readonly string[];
  readonly idPrefixes: readonly string[];
}

export const everything: ActorFilterSpec = { kinds: [], idPrefixes: [] };

/**
 * An actor is shown when it or one of its ancestors matches every given criterion, so asking for
 * `kind=container` also shows each container's in-flight engine calls. Answers are cached per
 * actor object (a WeakMap: stopped actors are forgotten with them).
 */
export class ActorFilter {
  private readonly cache = new WeakMap<AnyActorRef, boolean>();
  readonly all: boolean;

  constructor(private readonly spec: ActorFilterSpec) {
    this.all = spec.kinds.length === 0 && spec.idPrefixes.length === 0;
  }

  matches(ref: AnyActorRef): boolean {
    if (this.all) return true;
    const cached = this.cache.get(ref);
    if (cached !== undefined) return cached;
    const parent = parentOf(ref);
    const result = this.matchesItself(ref) || (parent !== undefined && this.matches(parent));
    this.cache.set(ref, result);
    return result;
  }

  private matchesItself(ref: AnyActorRef): boolean {
    const { kinds, idPrefixes } = this.spec;
    if (kinds.length > 0 && !kinds.includes(actorKind(ref))) return false;
    if (idPrefixes.length > 0) {
      const id = actorId(ref);
      if (!idPrefixes.some((prefix) => id.startsWith(prefix))) return false;
    }
    return true;
  }
}
