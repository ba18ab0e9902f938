import type { AnyActorRef } from 'xstate';
import type { Redactor } from './redaction.ts';
import { toWireValue } from './wire-value.ts';

/** The parts of XState's actor object the inspector reads beyond the public ActorRef type. */
interface ActorInternals {
  readonly id: string;
  readonly sessionId: string;
  readonly src?: unknown;
  readonly logic?: { readonly config?: unknown };
  readonly _parent?: AnyActorRef;
}

function internals(ref: AnyActorRef): ActorInternals {
  return ref as unknown as ActorInternals;
}

export function parentOf(ref: AnyActorRef): AnyActorRef | undefined {
  return internals(ref)._parent;
}

function machineConfig(ref: AnyActorRef): Record<string, unknown> | undefined {
  const config = internals(ref).logic?.config;
  // A promise or callback actor's "config" is its function: no definition to draw.
  return typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : undefined;
}

/**
 * What kind of actor this is, for filters: the name it was registered under in its parent's
 * `setup({ actors })` (`container`, `list`, `engineWatch`, …), else its machine's id
 * (`node-agent`, `raftRole`), else its actor id.
 */
export function actorKind(ref: AnyActorRef): string {
  const { src, id } = internals(ref);
  if (typeof src === 'string') return src;
  const configId = machineConfig(ref)?.id;
  return typeof configId === 'string' ? configId : id;
}

/** Stately's rule: the actor id, unless it is only the session id; then the machine's id. */
export function actorName(ref: AnyActorRef): string {
  const { id, sessionId } = internals(ref);
  const configId = machineConfig(ref)?.id;
  return id === sessionId && typeof configId === 'string' ? configId : id;
}

export function actorId(ref: AnyActorRef): string {
  return internals(ref).id;
}

/**
 * Machine definitions never change while the daemon runs, so each is serialized once per logic
 * (sanitized too: a machine's initial context could hold anything).
 */
export class DefinitionCache {
  private readonly byLogic = new WeakMap<object, string>();

  constructor(private readonly redactor: Redactor) {}

  definitionOf(ref: AnyActorRef): string {
    const logic = internals(ref).logic as object | undefined;
    const cached = logic ? this.byLogic.get(logic) : undefined;
    if (cached !== undefined) return cached;
    const config = machineConfig(ref);
    const text = JSON.stringify(config ? toWireValue(config, this.redactor, { maxDepth: 40, maxArrayItems: 500, maxKeys: 500, maxStringLength: 2000 }) : { id: actorName(ref) });
    if (logic) this.byLogic.set(logic, text);
    return text;
  }
}

/** Every live actor under `root`, parents before children (machine snapshots list their children). */
export function liveActors(root: AnyActorRef): AnyActorRef[] {
  const out: AnyActorRef[] = [];
  const visit = (ref: AnyActorRef): void => {
    out.push(ref);
    const snapshot = ref.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> } | undefined;
    for (const child of Object.values(snapshot?.children ?? {})) if (child) visit(child);
  };
  visit(root);
  return out;
}
