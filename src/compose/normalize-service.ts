/**
 * One schema-valid, interpolated compose service → ServiceSpec. Per-key rules live in the
 * normalize-* modules; this module decides the image, the keys that need the whole service in
 * view (build, container_name, network_mode) and assembles the spec.
 */
import { checkServiceKeys } from './cluster-support.ts';
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';
import { normalizeCommand } from './normalize-command.ts';
import { normalizeDependsOn } from './normalize-depends-on.ts';
import { normalizeDeploy, parseRestart } from './normalize-deploy.ts';
import { raiseMonitorToHealthWindow } from './rollout-monitor.ts';
import { normalizeDevices } from './normalize-devices.ts';
import { normalizeEnvironment, normalizeLabels } from './normalize-environment.ts';
import { normalizeHealthcheck } from './normalize-healthcheck.ts';
import { normalizeNetworkMode } from './normalize-network-mode.ts';
import { normalizeNetworks } from './normalize-networks.ts';
import { normalizePorts } from './normalize-ports.ts';
import { durationField } from './normalize-values.ts';
import { normalizeVolumes } from './normalize-volumes.ts';
import type { ServiceSpec } from './types.ts';

/** Docker's default time between SIGTERM and SIGKILL. */
export const defaultStopGracePeriodMs = 10_000;

export function normalizeService(raw: Record<string, unknown>, ctx: NormalizeContext): ServiceSpec | undefined {
  const { servicePath, sink } = ctx;
  const errorsBefore = sink.errors.length;
  checkServiceKeys(raw, servicePath, sink);

  const image = typeof raw.image === 'string' && raw.image.trim() !== '' ? raw.image.trim() : undefined;
  if (raw.build !== undefined && raw.build !== null) {
    if (image === undefined) {
      sink.error([...servicePath, 'build'], composeCodes.buildWithoutImage,
        `service "${ctx.service}" has "build" but no "image": a cluster cannot build images; build and push it, then set "image"`);
    } else {
      sink.warning([...servicePath, 'build'], composeCodes.buildIgnored, `"build" is ignored: the service runs image "${image}"`);
    }
  } else if (image === undefined) {
    sink.error(servicePath, composeCodes.imageMissing, `service "${ctx.service}" has no "image"`);
  }

  const restart = parseRestart(raw.restart, ctx);
  // The rollout monitor is raised to the healthcheck's window (rollout-monitor.ts).
  const deployAsWritten = normalizeDeploy(raw, restart, ctx);
  const healthcheck = normalizeHealthcheck(raw.healthcheck, ctx);
  const deploy = raiseMonitorToHealthWindow(deployAsWritten, healthcheck, ctx);

  if (raw.container_name !== undefined) {
    if (deploy.mode === 'global' || deploy.replicas > 1) {
      sink.error([...servicePath, 'container_name'], composeCodes.containerNameWithReplicas,
        `"container_name" cannot be used with ${deploy.mode === 'global' ? 'global mode' : `${deploy.replicas} replicas`}: container names must be unique`);
    } else {
      sink.warning([...servicePath, 'container_name'], composeCodes.ignoredKey,
        '"container_name" is not honoured: containers are named <stack>_<service>_<slot>');
    }
  }

  const networkMode = normalizeNetworkMode(raw.network_mode, Array.isArray(raw.ports) && raw.ports.length > 0, ctx);

  const command = normalizeCommand(raw.command, 'command', ctx);
  const entrypoint = normalizeCommand(raw.entrypoint, 'entrypoint', ctx);
  const spec: ServiceSpec = {
    name: ctx.service,
    image: image ?? '',
    ...(command === undefined ? {} : { command }),
    ...(entrypoint === undefined ? {} : { entrypoint }),
    environment: normalizeEnvironment(raw.environment, raw.env_file, ctx),
    ports: normalizePorts(raw.ports, ctx),
    volumes: normalizeVolumes(raw.volumes, raw.tmpfs, ctx),
    labels: normalizeLabels(raw.labels),
    ...(healthcheck === undefined ? {} : { healthcheck }),
    ...(restart === undefined ? {} : { restart: restart.restart }),
    dependsOn: normalizeDependsOn(raw.depends_on, ctx),
    ...(networkMode === undefined ? {} : { networkMode }),
    networks: normalizeNetworks(raw.networks, raw.network_mode, deploy.mode === 'global' ? 'global' : deploy.replicas, ctx),
    capAdd: stringList(raw.cap_add),
    capDrop: stringList(raw.cap_drop),
    devices: normalizeDevices(raw.devices, ctx),
    ...(typeof raw.user === 'string' ? { user: raw.user } : {}),
    ...(typeof raw.working_dir === 'string' ? { workingDir: raw.working_dir } : {}),
    stopGracePeriodMs: durationField(raw.stop_grace_period, [...servicePath, 'stop_grace_period'], ctx) ?? defaultStopGracePeriodMs,
    ...(typeof raw.stop_signal === 'string' ? { stopSignal: raw.stop_signal } : {}),
    deploy,
  };
  return sink.errors.length === errorsBefore ? spec : undefined;
}

function stringList(raw: unknown): string[] {
  return Array.isArray(raw) ? raw.map(String) : [];
}
