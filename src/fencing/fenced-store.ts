/**
 * The state this node's agent runs from, fenced (issue 7 item 3). It is the replicated state with
 * two kinds of slot placed on this node taken out:
 * - slots of at-most-once services while this node holds no valid lease (node-lease.ts): the
 *   agent then stops them by itself, before the leader may place their replacement;
 * - any slot whose fencing token is older than one this node has already seen for that slot: a
 *   start decided before a newer placement is refused, whatever the state's source lags behind.
 * Every other service, at-least-once ones included, passes through untouched: a cut node keeps
 * running them (availability first, as Swarm).
 */
import type { Logger } from 'pino';
import type { ClientRequest, CommandResult } from '../cluster/commands.ts';
import { fencingToken, type PlacementRecord, type PlacementTable } from '../cluster/placements.ts';
import type { ClusterStateData } from '../cluster/state.ts';
import { deliveryMode } from '../orchestrator/failover/delivery-mode.ts';
import type { StateStore } from '../seams/state-store.ts';
import type { NodeLease } from './node-lease.ts';

export class FencedStore implements StateStore {
  /** "stack/service/slot" → the highest fencing token seen for it. */
  private readonly knownTokens = new Map<string, number>();
  private readonly refusedLogged = new Set<string>();

  constructor(
    private readonly inner: StateStore,
    private readonly nodeId: string,
    private readonly lease: NodeLease,
    private readonly logger: Logger,
  ) {}

  open(): Promise<void> {
    return this.inner.open();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  submit(request: ClientRequest): Promise<CommandResult> {
    return this.inner.submit(request);
  }

  current(): Readonly<ClusterStateData> {
    return this.fence(this.inner.current());
  }

  subscribe(listener: (state: Readonly<ClusterStateData>) => void): () => void {
    const fromState = this.inner.subscribe((state) => {
      this.lease.applied();
      listener(this.fence(state));
    });
    const fromLease = this.lease.subscribe(() => listener(this.current()));
    return () => {
      fromState();
      fromLease();
    };
  }

  /** The fenced view of any state this node is handed (its member's, or a lagging source's). */
  fence(state: Readonly<ClusterStateData>): Readonly<ClusterStateData> {
    const leased = this.lease.valid();
    let placements: PlacementTable | undefined;
    for (const stack of Object.values(state.stacks)) {
      const services = state.placements[stack.name];
      if (!services) continue;
      for (const spec of stack.spec.services) {
        const record = Object.hasOwn(services, spec.name) ? services[spec.name] : undefined;
        if (!record) continue;
        const atMostOnce = deliveryMode(spec) === 'at-most-once';
        const drop: string[] = [];
        for (const [slot, node] of Object.entries(record.slots)) {
          const key = `${stack.name}/${spec.name}/${slot}`;
          const token = fencingToken(record, slot);
          const known = this.knownTokens.get(key) ?? 0;
          if (token > known) this.knownTokens.set(key, token);
          if (node !== this.nodeId) continue;
          if (token < known) {
            if (!this.refusedLogged.has(`${key}@${token}`)) {
              this.refusedLogged.add(`${key}@${token}`);
              this.logger.warn({ code: 'fencing_token_stale', stack: stack.name, service: spec.name, slot: Number(slot), token, known }, 'refusing a placement older than one already seen for this slot');
            }
            drop.push(slot);
          } else if (atMostOnce && !leased) drop.push(slot);
        }
        if (drop.length === 0) continue;
        placements ??= copyTable(state.placements);
        placements[stack.name]![spec.name] = withoutSlots(record, drop);
      }
    }
    return placements ? { ...state, placements } : state;
  }
}

function copyTable(table: PlacementTable): PlacementTable {
  const copy = Object.create(null) as PlacementTable;
  for (const [stack, services] of Object.entries(table)) copy[stack] = Object.assign(Object.create(null) as Record<string, PlacementRecord>, services);
  return copy;
}

function withoutSlots(record: PlacementRecord, drop: readonly string[]): PlacementRecord {
  const slots = { ...record.slots };
  for (const slot of drop) delete slots[slot];
  return { ...record, slots };
}
