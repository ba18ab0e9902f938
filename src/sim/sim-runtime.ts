import type { Clock } from '../seams/clock.ts';
import {
  type ContainerRuntime,
  type ContainerState,
  type ContainerSummary,
  type CreateContainerRequest,
  type HealthState,
  type NetworkCreateRequest,
  type NetworkSummary,
  RuntimeError,
  type RuntimeErrorCode,
  type RuntimeEvent,
  type RuntimeEventSubscription,
} from '../seams/container-runtime.ts';

interface SimContainer {
  id: string;
  name: string;
  request: CreateContainerRequest;
  state: ContainerState;
  health: HealthState;
  exitCode?: number;
  createdAtMs: number;
  startedAtMs?: number;
}

interface Stream {
  onEvent: (event: RuntimeEvent) => void;
  onEnd: (error?: Error) => void;
  open: boolean;
}

export interface SimRuntimeOptions {
  readonly clock: Clock;
  /** How long a start takes, on the injected clock. 0 = resolves without a timer. */
  readonly startLatencyMs?: number;
  /** Images the engine has; undefined = every image exists. */
  readonly images?: readonly string[];
}

/**
 * An in-memory container engine for fast deterministic tests of the agent: same contract as the
 * dockerode adapter, with start latency on the injected clock, injectable failures, an event
 * stream that can be broken, and `kill` to simulate a crash. It complements the real-engine tests,
 * it does not replace them.
 */
export class SimRuntime implements ContainerRuntime {
  /** Every successful mutating call, e.g. "create web_1", "start <id>" — for assertions. */
  readonly calls: string[] = [];
  private readonly containers = new Map<string, SimContainer>();
  /** Networks by name. */
  private readonly networks = new Map<string, NetworkSummary>();
  private readonly streams = new Set<Stream>();
  private readonly failures: { operation: string; code: RuntimeErrorCode; remaining: number }[] = [];
  private nextId = 1;
  private available = true;

  constructor(private readonly options: SimRuntimeOptions) {}

  // ---- fault injection and inspection for tests ----

  /** The next `times` calls of `operation` fail with `code`. */
  failNext(operation: string, code: RuntimeErrorCode, times = 1): void {
    this.failures.push({ operation, code, remaining: times });
  }

  /** The process exits on its own (crash or completion). */
  kill(id: string, exitCode: number): void {
    const c = this.mustGet(id, 'kill');
    if (c.state !== 'running') return;
    c.state = 'exited';
    c.exitCode = exitCode;
    c.health = 'none';
    this.emit('die', c, { exitCode });
  }

  /** `docker restart`: the same container dies and runs again (a new run, so a new network namespace). */
  restart(id: string): void {
    const c = this.mustGet(id, 'restart');
    if (c.state === 'running') {
      c.state = 'exited';
      c.exitCode = 143;
      this.emit('die', c, { exitCode: 143 });
    }
    c.state = 'running';
    delete c.exitCode;
    c.startedAtMs = this.options.clock.nowMs();
    c.health = c.request.healthcheck && c.request.healthcheck.test[0] !== 'NONE' ? 'starting' : 'none';
    this.emit('start', c);
  }

  setHealth(id: string, health: HealthState): void {
    const c = this.mustGet(id, 'setHealth');
    c.health = health;
    this.emit('health_status', c, { health });
  }

  /** Removes a container behind the agent's back. */
  destroy(id: string): void {
    const c = this.mustGet(id, 'destroy');
    this.containers.delete(id);
    this.emit('destroy', c);
  }

  /** Engine goes away: streams end, calls fail with engine_unavailable, running containers die silently. */
  goDown(): void {
    this.available = false;
    for (const c of this.containers.values()) {
      if (c.state === 'running') {
        c.state = 'exited';
        c.exitCode = 137;
        c.health = 'none';
      }
    }
    for (const s of [...this.streams]) this.endStream(s, new Error('engine went away'));
  }

  comeBack(): void {
    this.available = true;
  }

  /** Breaks every open event stream without any other effect (a proxy hiccup). */
  breakStreams(): void {
    for (const s of [...this.streams]) this.endStream(s, new Error('stream broken'));
  }

  openStreams(): number {
    return this.streams.size;
  }

  snapshot(): ContainerSummary[] {
    return [...this.containers.values()].map((c) => this.summary(c));
  }

  /** The labels of every running container: a cheap read for checks run at every clock step. */
  runningLabels(): Readonly<Record<string, string>>[] {
    const labels: Readonly<Record<string, string>>[] = [];
    for (const c of this.containers.values()) if (c.state === 'running') labels.push(c.request.labels);
    return labels;
  }

  /** Networks that exist, by name, for assertions. */
  networkNames(): string[] {
    return [...this.networks.keys()].sort();
  }

  /** Creates a network behind the agent's back (an external one, or a foreign one with the same name). */
  addNetwork(name: string, labels: Readonly<Record<string, string>> = {}): void {
    this.networks.set(name, { id: `net${String(this.nextId++).padStart(6, '0')}`, name, driver: 'bridge', labels: { ...labels } });
  }

  byName(name: string): ContainerSummary | undefined {
    const c = [...this.containers.values()].find((x) => x.name === name);
    return c && this.summary(c);
  }

  // ---- ContainerRuntime ----

  async ping(): Promise<void> {
    this.check('ping');
  }

  async list(labels: Readonly<Record<string, string>>): Promise<ContainerSummary[]> {
    this.check('list');
    return [...this.containers.values()]
      .filter((c) => Object.entries(labels).every(([k, v]) => c.request.labels[k] === v))
      .map((c) => this.summary(c));
  }

  async inspect(id: string): Promise<ContainerSummary | undefined> {
    this.check('inspect');
    const c = this.containers.get(id);
    return c && this.summary(c);
  }

  async ensureImage(image: string): Promise<void> {
    this.check('ensureImage');
    if (this.options.images && !this.options.images.includes(image)) {
      throw new RuntimeError('image_not_found', 'ensureImage', `image ${image} not found`);
    }
  }

  async create(request: CreateContainerRequest): Promise<string> {
    this.check('create');
    if (this.options.images && !this.options.images.includes(request.image)) {
      throw new RuntimeError('image_not_found', 'create', `image ${request.image} not found`);
    }
    if ([...this.containers.values()].some((c) => c.name === request.name)) {
      throw new RuntimeError('conflict', 'create', `name ${request.name} is already in use`);
    }
    const missing = (request.networkMode === undefined ? request.networks ?? [] : []).find((n) => !this.networks.has(n.name));
    if (missing) throw new RuntimeError('network_not_found', 'create', `network ${missing.name} not found`);
    const id = `sim${String(this.nextId++).padStart(6, '0')}`;
    const c: SimContainer = { id, name: request.name, request, state: 'created', health: 'none', createdAtMs: this.options.clock.nowMs() };
    this.containers.set(id, c);
    this.calls.push(`create ${request.name}`);
    this.emit('create', c);
    return id;
  }

  async start(id: string): Promise<void> {
    this.check('start');
    const c = this.mustGet(id, 'start');
    if (c.state === 'running') return;
    const latencyMs = this.options.startLatencyMs ?? 0;
    if (latencyMs > 0) await new Promise<void>((resolve) => this.options.clock.setTimeout(resolve, latencyMs));
    if (!this.containers.has(id)) throw new RuntimeError('not_found', 'start', `no such container ${id}`);
    // As the engine: a container joins another's namespace only while that one runs.
    const joins = c.request.networkMode?.startsWith('container:') ? c.request.networkMode.slice('container:'.length) : undefined;
    if (joins !== undefined) {
      const target = this.containers.get(joins);
      if (!target) throw new RuntimeError('not_found', 'start', `No such container: ${joins}`);
      if (target.state !== 'running') throw new RuntimeError('engine_error', 'start', `cannot join network of a non running container: ${joins}`);
    }
    c.state = 'running';
    delete c.exitCode;
    c.startedAtMs = this.options.clock.nowMs();
    c.health = c.request.healthcheck && c.request.healthcheck.test[0] !== 'NONE' ? 'starting' : 'none';
    this.calls.push(`start ${c.name}`);
    this.emit('start', c);
  }

  async stop(id: string, _gracePeriodMs: number): Promise<void> {
    this.check('stop');
    const c = this.mustGet(id, 'stop');
    this.calls.push(`stop ${c.name}`);
    if (c.state !== 'running') return;
    c.state = 'exited';
    c.exitCode = 143;
    c.health = 'none';
    this.emit('die', c, { exitCode: 143 });
  }

  async pause(id: string): Promise<void> {
    this.check('pause');
    const c = this.mustGet(id, 'pause');
    this.calls.push(`pause ${c.name}`);
    if (c.state !== 'running') return;
    c.state = 'paused';
    this.emit('pause', c);
  }

  async unpause(id: string): Promise<void> {
    this.check('unpause');
    const c = this.mustGet(id, 'unpause');
    this.calls.push(`unpause ${c.name}`);
    if (c.state !== 'paused') return;
    c.state = 'running';
    this.emit('unpause', c);
  }

  async remove(id: string): Promise<void> {
    this.check('remove');
    const c = this.mustGet(id, 'remove');
    this.containers.delete(id);
    this.calls.push(`remove ${c.name}`);
    if (c.state === 'running') this.emit('die', c, { exitCode: 137 });
    this.emit('destroy', c);
  }

  async ensureNetwork(request: NetworkCreateRequest): Promise<NetworkSummary> {
    this.check('ensureNetwork');
    const existing = this.networks.get(request.name);
    if (existing) {
      if (Object.entries(request.ownerLabels).every(([k, v]) => existing.labels[k] === v)) return existing;
      throw new RuntimeError('conflict', 'create_network', `network ${request.name} exists and is not this stack's`);
    }
    const network: NetworkSummary = { id: `net${String(this.nextId++).padStart(6, '0')}`, name: request.name, driver: request.driver, labels: { ...request.labels } };
    this.networks.set(request.name, network);
    this.calls.push(`create-network ${request.name}`);
    return network;
  }

  async listNetworks(labels: Readonly<Record<string, string>>): Promise<NetworkSummary[]> {
    this.check('listNetworks');
    return [...this.networks.values()].filter((n) => Object.entries(labels).every(([k, v]) => n.labels[k] === v));
  }

  async removeNetwork(id: string): Promise<void> {
    this.check('removeNetwork');
    const network = [...this.networks.values()].find((n) => n.id === id || n.name === id);
    if (!network) return;
    if ([...this.containers.values()].some((c) => c.request.networkMode === undefined && (c.request.networks ?? []).some((n) => n.name === network.name))) {
      throw new RuntimeError('conflict', 'remove_network', `network ${network.name} has active endpoints`);
    }
    this.networks.delete(network.name);
    this.calls.push(`remove-network ${network.name}`);
  }

  events(onEvent: (event: RuntimeEvent) => void, onEnd: (error?: Error) => void): RuntimeEventSubscription {
    const stream: Stream = { onEvent, onEnd, open: true };
    if (!this.available) {
      // Like a refused connection: the end arrives asynchronously, never during subscribe.
      queueMicrotask(() => onEnd(new RuntimeError('engine_unavailable', 'events', 'engine is not reachable')));
      return { close: () => {} };
    }
    this.streams.add(stream);
    return { close: () => { stream.open = false; this.streams.delete(stream); } };
  }

  // ---- internals ----

  private check(operation: string): void {
    if (!this.available) throw new RuntimeError('engine_unavailable', operation, 'engine is not reachable');
    const failure = this.failures.find((f) => f.operation === operation && f.remaining > 0);
    if (failure) {
      failure.remaining -= 1;
      throw new RuntimeError(failure.code, operation, `injected ${failure.code} on ${operation}`);
    }
  }

  private mustGet(id: string, operation: string): SimContainer {
    const c = this.containers.get(id);
    if (!c) throw new RuntimeError('not_found', operation, `no such container ${id}`);
    return c;
  }

  private endStream(stream: Stream, error: Error): void {
    if (!stream.open) return;
    stream.open = false;
    this.streams.delete(stream);
    stream.onEnd(error);
  }

  private emit(action: RuntimeEvent['action'], c: SimContainer, extra: { exitCode?: number; health?: HealthState } = {}): void {
    const event: RuntimeEvent = { action, containerId: c.id, labels: c.request.labels, timeMs: this.options.clock.nowMs(), ...extra };
    for (const s of [...this.streams]) if (s.open) s.onEvent(event);
  }

  private summary(c: SimContainer): ContainerSummary {
    return {
      id: c.id,
      name: `/${c.name}`,
      image: c.request.image,
      labels: c.request.labels,
      state: c.state,
      health: c.health,
      createdAtMs: c.createdAtMs,
      ...(c.exitCode !== undefined ? { exitCode: c.exitCode } : {}),
      ...(c.startedAtMs !== undefined ? { startedAtMs: c.startedAtMs } : {}),
      ...(c.request.networkMode !== undefined ? { networkMode: c.request.networkMode } : {}),
    };
  }
}
