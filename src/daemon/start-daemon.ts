import type { AnyActorRef } from 'xstate';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { startDaemonSystem, type DaemonSystem } from '../actors/daemon-system.ts';
import { ApiTokenFileError, ensureApiTokenFile, type ApiTokenScope } from '../adapters/api-token-file.ts';
import { createDockerRuntime } from '../adapters/docker/index.ts';
import { FileRestartLedger } from '../adapters/file-restart-ledger.ts';
import { systemClock } from '../adapters/system-clock.ts';
import type { ClusterApi } from '../api/api-deps.ts';
import { buildApiServer } from '../api/build-api-server.ts';
import { loadCompose, warmComposeSchema } from '../compose/load-compose.ts';
import type { Config } from '../config/load-config.ts';
import { isLoopbackHost } from '../config/loopback.ts';
import { componentLogger } from '../log/create-logger.ts';
import { createDaemonMetrics, type DaemonMetrics } from '../metrics/daemon-metrics.ts';
import { PrometheusTelemetry } from '../metrics/prometheus-telemetry.ts';
import { engineUnreachableMessage } from './engine-unreachable.ts';
import { InspectionHub } from '../observe/inspection-hub.ts';
import { LateSources } from '../observe/late-sources.ts';
import { createRedactor } from '../observe/redaction.ts';
import { EventLog } from '../observe/event-log.ts';
import { failoverEventBody } from '../observe/failover-event.ts';
import type { FailoverEvent } from '../orchestrator/failover/failover-reconciler.ts';
import { ClusterEventSource } from '../observe/cluster-event-source.ts';
import { openStateStore } from './open-state-store.ts';
import { startClusterServices } from './cluster-services.ts';
import { FencedStore } from '../fencing/fenced-store.ts';
import { NodeLease } from '../fencing/node-lease.ts';
import { stopAtMostOnceBeforeSync } from '../fencing/fence-before-sync.ts';
import { failoverTiming } from '../orchestrator/failover/failover-timing.ts';
import type { RolloutStep } from '../orchestrator/rollout/rollout-reconciler.ts';
import { rolloutResults } from '../metrics/rollout-metrics.ts';
import { HostPortResolver } from '../ingress/host-port-resolver.ts';
import { startIngress } from '../ingress/start-ingress.ts';

export interface RunningDaemon {
  /** Where the API listens, e.g. http://127.0.0.1:7420 */
  readonly address: string;
  readonly api: FastifyInstance;
  readonly system: DaemonSystem;
  readonly metrics: DaemonMetrics;
  /** The actor inspection stream behind GET /v1/inspect. */
  readonly inspection: InspectionHub;
  /** The cluster event log behind GET /v1/events. */
  readonly events: EventLog;
  /** The file holding the generated API token; undefined when api.token is set in the config. */
  readonly tokenFile: string | undefined;
  /** In cluster mode: the cluster port's address as peers dial it (what `--join` takes). */
  readonly clusterAddress?: string;
  /** In cluster mode: the nodes and join tokens (what the API's node routes use). */
  readonly cluster?: ClusterApi;
  /** Watches every actor event (XState inspection); returns a detach function. */
  attachInspector: DaemonSystem['attachInspector'];
  /** Stops the API and the actors. Containers keep running: a restarted daemon adopts them. */
  stop(): Promise<void>;
}

/** Cluster events kept for readers that resume with ?since= (about 3 MB at most). */
const eventHistory = 10_000;

export class DaemonStartError extends Error {
  constructor(readonly code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DaemonStartError';
  }
}

/**
 * The composition root: the only place that knows both the real adapters (dockerode, files,
 * system clock, prom-client) and the actors and API that use them through seams.
 */
export async function startDaemon(config: Config, logger: Logger): Promise<RunningDaemon> {
  if (!config.api.token && !isLoopbackHost(config.api.host)) {
    // The config loader refuses this too; checked again here because it is a security boundary.
    throw new DaemonStartError('insecure_api', `api.host ${config.api.host} is reachable from other machines: set api.token, or bind to 127.0.0.1`);
  }
  const metrics = createDaemonMetrics({ collectProcessMetrics: true });
  // The config loader already applied docker.host, else $DOCKER_HOST, else the local socket.
  const dockerHost = config.docker.host;
  const runtime = createDockerRuntime(dockerHost);
  runtime.ping().then(
    () => logger.info({ dockerHost }, 'docker engine reachable'),
    (error: unknown) => logger.warn({ dockerHost }, engineUnreachableMessage(dockerHost, error)),
  );
  // Before the API listens: the first deploy must not pay the schema compile (~0.3 s).
  warmComposeSchema();
  const dataDir = resolve(config.node.dataDir);
  // Before the store opens: a bad token file refuses to start with nothing else touched.
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const apiToken = await resolveApiToken(config, dataDir, logger, 'admin');
  const readOnlyToken = await resolveApiToken(config, dataDir, logger, 'read-only');
  const opened = await openStateStore(config, dataDir, systemClock, componentLogger(logger, 'cluster'), metrics.raft);
  const { store, cluster, worker } = opened;
  const restartLedger = await FileRestartLedger.open(dataDir, componentLogger(logger, 'agent'));
  // Every node of a cluster holds a lease on its at-most-once replicas. A manager's is renewed by
  // the leader's heartbeat answers once its log caught up; a worker's by its manager's lease acks,
  // which that manager sends only for beats the leader took and once its own log (hence the
  // assignments it sent before the ack) caught up with the leader's — so the worker itself
  // requires no index.
  const leaseMs = failoverTiming({ heartbeatIntervalMs: config.cluster.heartbeatIntervalMs, nodeDownAfterMs: config.cluster.nodeDownAfterMs, electionTimeoutMs: config.raft.electionTimeoutMs }).leaseMs;
  const lease = cluster
    ? new NodeLease({ clock: systemClock, leaseMs, appliedIndex: () => cluster.raft.status().appliedIndex })
    : worker
      ? new NodeLease({ clock: systemClock, leaseMs, appliedIndex: () => 0 })
      : undefined;
  // Rollout results, counted where the rollout is led (here on a single node, by the leader in a cluster).
  const onRolloutStep = (step: RolloutStep): void => {
    const result = rolloutResults.find((candidate) => candidate === step.progress.phase);
    if (result) metrics.rollouts.ended(result, (Date.now() - step.startedAtMs) / 1000);
  };
  // Rollout machines live as long as their rollout; the inspector follows them once it exists.
  const rolloutMachines = new LateSources();
  let system: DaemonSystem;
  try {
    if (cluster) {
      await stopAtMostOnceBeforeSync(runtime, config.node.id, componentLogger(logger, 'fencing'));
      logger.info('waiting for this member to catch up with the cluster log before the agent acts on it');
      await cluster.synced();
    }
    system = await startDaemonSystem({
      nodeId: config.node.id,
      ...(cluster || worker ? { runPlacedOnly: true } : {}),
      runtime,
      // In a cluster the agent runs from the fenced state: at-most-once replicas only under a lease.
      store: lease ? new FencedStore(store, config.node.id, lease, componentLogger(logger, 'fencing')) : store,
      clock: systemClock,
      logger: componentLogger(logger, 'agent'),
      telemetry: new PrometheusTelemetry(metrics),
      reconcileIntervalMs: config.reconcile.intervalMs,
      restartLedger,
      rollouts: { clientId: `rollout:${config.node.id}:${randomUUID()}`, wallClockMs: () => Date.now(), onStep: onRolloutStep, onMachine: rolloutMachines.follow },
    });
  } catch (error) {
    await opened.close();
    throw error;
  }
  // Replicas with the host ports the engine gave them: what this node reports, and what every
  // node's ingress forwarder connects to (src/ingress).
  const ports = new HostPortResolver(runtime, system, componentLogger(logger, 'ingress'));
  ports.start();
  const agentSystem = system;
  system = { ...agentSystem, containers: () => ports.containers() };
  // Known secrets are scrubbed by value from everything the inspector sends, wherever they appear.
  const redactor = createRedactor([apiToken.token, readOnlyToken.token, ...(cluster ? [cluster.identity.secret] : [])]);
  const inspection = new InspectionHub({
    sources: [{ root: system.root }, ...(cluster ? [{ root: cluster.raft.actor }] : [])],
    redactor,
    wallClockMs: () => Date.now(),
    logger: componentLogger(logger, 'inspect'),
  });
  rolloutMachines.attach(inspection);
  const events = new EventLog(eventHistory, randomUUID(), () => Date.now());
  // The leader's failover decisions go to the event log as they are made (the reconciler logs them too).
  const onFailover = (event: FailoverEvent): void => void events.append(failoverEventBody(event));
  const clusterServices = cluster ? startClusterServices({ cluster, system, config, clock: systemClock, logger: componentLogger(logger, 'cluster'), ...(lease ? { lease } : {}), registry: metrics.registry, onRolloutStep, onRolloutMachine: rolloutMachines.follow, onFailover }) : undefined;
  // Typed cluster events from what the daemon already knows: the store (the replicated log in a
  // cluster), the agent's or the cluster board's replicas, the nodes and the leader.
  const eventSource = new ClusterEventSource({
    log: events,
    logger: componentLogger(logger, 'events'),
    inputs: {
      localNodeId: config.node.id,
      // A worker's store holds the placements made for it: they are its scheduled replicas.
      clustered: clusterServices !== undefined || worker !== undefined,
      state: () => store.current(),
      containers: () => (clusterServices ? clusterServices.agentView.containers() : system.containers()),
      // Only what the events compare: the API's node view also counts containers per node, which
      // costs nodes × replicas on every look.
      nodes: () => (clusterServices
        ? Object.values(store.current().nodes).map((record) => ({ id: record.id, status: clusterServices.statusOf(record.id), availability: record.availability ?? 'active', role: record.role ?? 'manager' }))
        : [{ id: config.node.id, status: 'ready', availability: 'active', role: 'manager' }]),
      // A worker knows no leader of its own (its session is to any manager).
      leader: () => (cluster ? cluster.raft.status().leaderId : worker ? undefined : config.node.id),
      vpnLinks: () => system.vpnLinks(),
      changes: [(listener) => store.subscribe(listener), (listener) => system.subscribe(listener)],
    },
  });
  eventSource.start();
  metrics.observe.inspectViewers = () => inspection.viewerCount();
  metrics.observe.inspectFramesSent = () => inspection.stats.framesSent;
  metrics.observe.inspectViewersCutOff = () => inspection.stats.viewersCutOff;
  metrics.observe.clusterEvents = () => events.lastIndex();
  metrics.observe.actorsByKind = () => inspection.actorCountsByKind();
  // The node machines run only while this daemon leads (a new system each term): the inspector
  // follows them by looking once a second, which costs one comparison.
  let membershipRoot: AnyActorRef | undefined;
  const followMembership = clusterServices ? setInterval(() => {
    const now = clusterServices.membershipActor();
    if (now === membershipRoot) return;
    if (membershipRoot) inspection.removeSource(membershipRoot);
    membershipRoot = now;
    if (now) inspection.addSource({ root: now });
  }, 1000) : undefined;
  followMembership?.unref();
  if (cluster) metrics.raft.status = () => cluster.raft.status();
  worker?.startSession(() => ({ containers: system.containers(), services: system.services() }), (sentAtMs) => lease?.renew(sentAtMs, 0), () => agentSystem.engineReachable?.() === false);
  const ingress = startIngress({
    nodeId: config.node.id,
    // A worker's own store holds its assignments: its own replicas' backends; the rest comes from its manager.
    state: () => store.current(),
    localContainers: () => system.containers(),
    ...(clusterServices ? { clusterContainers: () => clusterServices.agentView.containers(), nodeUp: (id: string) => clusterServices.statusOf(id) === 'ready' } : {}),
    ...(worker ? { remoteTable: () => worker.ingress() } : {}),
    changes: [
      (listener) => store.subscribe(listener),
      (listener) => system.subscribe(listener),
      (listener) => ports.onChange(listener),
      () => every(2000, () => ports.sweep()),
      // A worker learns the cluster's table over its session (README "Ingress").
      ...(worker ? [(listener: () => void) => worker.onIngress(listener)] : []),
    ],
    logger: componentLogger(logger, 'ingress'),
  });
  metrics.ingress.listeners = () => ingress.listeners();
  // On a worker the API reads the cluster from a manager and forwards writes (see WorkerApiClient).
  const api = await buildApiServer({
    nodeId: config.node.id,
    store: worker ? worker.api.store : store,
    agent: worker ? worker.api.agent : clusterServices ? clusterServices.agentView : system,
    ...(clusterServices ? { cluster: clusterServices.api } : worker ? { cluster: worker.api.cluster, refresh: () => worker.api.refresh() } : {}),
    loadCompose,
    logger: componentLogger(logger, 'api'),
    wallClockMs: () => Date.now(),
    // A fresh client per process: sequence numbers restart at 1 and must not look like retries.
    clientId: `api:${config.node.id}:${randomUUID()}`,
    ...(config.metrics.enabled ? { metrics } : {}),
    token: apiToken.token,
    readOnlyToken: readOnlyToken.token,
    inspection,
    events,
    bind: { host: config.api.host, port: config.api.port },
  });
  let address: string;
  try {
    address = await api.listen({ host: config.api.host, port: config.api.port });
  } catch (error) {
    clearInterval(followMembership);
    eventSource.stop();
    await ingress.stop();
    ports.stop();
    await api.close();
    clusterServices?.stop();
    await system.stop();
    await opened.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new DaemonStartError('api_listen_failed', `cannot listen on ${config.api.host}:${config.api.port}: ${code ?? (error as Error).message}`, { cause: error });
  }
  logger.info({ address, nodeId: config.node.id, dockerHost, dataDir, tokenFrom: apiToken.file ?? 'api.token' }, 'api listening');

  let stopping: Promise<void> | undefined;
  return {
    address,
    api,
    system,
    metrics,
    inspection,
    events,
    tokenFile: apiToken.file,
    ...(cluster ? { clusterAddress: cluster.advertise } : {}),
    ...(clusterServices ? { cluster: clusterServices.api } : {}),
    attachInspector: (observer) => system.attachInspector(observer),
    stop: () => {
      stopping ??= (async () => {
        clearInterval(followMembership);
        inspection.close();
        eventSource.stop();
        await ingress.stop();
        ports.stop();
        await api.close();
        clusterServices?.stop();
        await system.stop();
        await restartLedger.flush();
        lease?.stop();
        await opened.close();
        logger.info('daemon stopped; containers keep running');
      })();
      return stopping;
    },
  };
}

/** Runs `task` every `ms` until the returned function is called; the timer never holds the process. */
function every(ms: number, task: () => unknown): () => void {
  const timer = setInterval(task, ms);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The API always has a token (security by default: a loopback port is reachable by every local
 * process and every page a local browser shows). api.token when the config sets it, else the one
 * generated at the first start into `<dataDir>/api-token` (0600), where the CLI finds it. The
 * read-only token likewise: api.readOnlyToken, else `<dataDir>/api-token.read-only`.
 */
async function resolveApiToken(config: Config, dataDir: string, logger: Logger, scope: ApiTokenScope): Promise<{ token: string; file: string | undefined }> {
  const configured = scope === 'admin' ? config.api.token : config.api.readOnlyToken;
  if (configured !== '') return { token: configured, file: undefined };
  try {
    const { token, file, created } = await ensureApiTokenFile(dataDir, scope);
    if (created) logger.info({ tokenFile: file, scope }, scope === 'admin' ? 'generated the API token (clients on this machine read it from this file)' : 'generated the read-only API token for viewers (`constellation token --read-only` prints it)');
    return { token, file };
  } catch (error) {
    if (error instanceof ApiTokenFileError) throw new DaemonStartError(error.code, error.message, { cause: error });
    throw error;
  }
}
