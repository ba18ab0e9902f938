/**
 * Labels every container we create carries. They are the only link between an engine container
 * and desired state, so a restarted daemon can find, adopt or remove its containers without any
 * local bookkeeping.
 */
export const LABEL_STACK = 'constellation.stack';
export const LABEL_SERVICE = 'constellation.service';
export const LABEL_SLOT = 'constellation.slot';
export const LABEL_SPEC_HASH = 'constellation.spec-hash';
export const LABEL_NODE = 'constellation.node';
/**
 * Only on replicas of at-most-once services: their stop grace in ms. A daemon that restarts stops
 * these before it waits for the cluster log (src/fencing/fence-before-sync.ts), when it cannot yet
 * know from the state which of its containers must not outlive its lease.
 */
export const LABEL_AT_MOST_ONCE = 'constellation.at-most-once-stop-ms';
/** On networks: the key of the network in the compose file ("default" for the stack's own). */
export const LABEL_NETWORK = 'constellation.network';

export interface SlotIdentity {
  readonly stack: string;
  readonly service: string;
  /** Replica slot, 1-based. */
  readonly slot: number;
}

export function containerName(id: SlotIdentity): string {
  return `${id.stack}_${id.service}_${id.slot}`;
}

/**
 * The name of a second replica of a slot (a start-first rollout starts the new one beside the
 * old): the slot's name with the first 8 characters of its spec hash. After the switch it is the
 * slot's replica under that name until the next rollout; names stay unique per engine.
 */
export function surgeName(id: SlotIdentity, specHash: string): string {
  return `${containerName(id)}-${specHash.slice(0, 8)}`;
}

/** Whether `name` is one of the names a replica of this slot may have. */
export function isSlotName(name: string, id: SlotIdentity & { readonly specHash: string }): boolean {
  return name === containerName(id) || name === surgeName(id, id.specHash);
}

export function containerLabels(id: SlotIdentity, specHash: string, nodeId: string): Record<string, string> {
  return {
    [LABEL_STACK]: id.stack,
    [LABEL_SERVICE]: id.service,
    [LABEL_SLOT]: String(id.slot),
    [LABEL_SPEC_HASH]: specHash,
    [LABEL_NODE]: nodeId,
  };
}

/** The label filter that selects every container this node agent manages. */
export function nodeSelector(nodeId: string): Record<string, string> {
  return { [LABEL_NODE]: nodeId };
}

export interface ParsedLabels extends SlotIdentity {
  readonly specHash: string;
  readonly nodeId: string;
}

/** Reads our labels back; undefined when the container is not one of ours (or was tampered with). */
export function parseLabels(labels: Readonly<Record<string, string>>): ParsedLabels | undefined {
  const stack = labels[LABEL_STACK];
  const service = labels[LABEL_SERVICE];
  const slotText = labels[LABEL_SLOT];
  const specHash = labels[LABEL_SPEC_HASH];
  const nodeId = labels[LABEL_NODE];
  if (!stack || !service || !slotText || !specHash || !nodeId) return undefined;
  const slot = Number(slotText);
  if (!Number.isInteger(slot) || slot < 1) return undefined;
  return { stack, service, slot, specHash, nodeId };
}

/** Engines report names with a leading slash ("/web_1"); we compare without it. */
export function normalizeName(name: string): string {
  return name.startsWith('/') ? name.slice(1) : name;
}
