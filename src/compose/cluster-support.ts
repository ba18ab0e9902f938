/**
 * Which compose keys a cluster can honour. A key Constellation cannot honour is never dropped
 * silently: it is refused (error, nothing is deployed) when ignoring it would run something
 * materially different from what the file describes, and warned about by name otherwise.
 * src/compose/README.md carries the same table for users; keep the two in step.
 *
 * Refused (errors):
 *   build without image — a cluster cannot build: every node must pull the same image.
 *   extends             — the service would miss everything it inherits.
 *   provider            — the service is run by a Compose provider plugin, not as a container.
 *   container_name with more than one replica or global mode — names must be unique per engine.
 *   top-level include   — the included services would be missing.
 *   network_mode service:X / container:X / <name> — see normalize-network-mode.ts.
 * Warned about (the key is ignored and the service is deployed without it): see below, and
 * checkUnappliedKeys for keys nested in deploy and depends_on.
 */
import { composeCodes } from './compose-codes.ts';
import type { DiagnosticSink } from './diagnostics.ts';

const networking = 'Constellation puts each stack on networks of its own, where services reach each other by service name, and does not manage per-container network settings';
const hostLevel = 'it changes host-level isolation or engine settings that Constellation does not manage';
const tuning = 'this resource tuning knob is not supported; use deploy.resources (cpus, memory, pids)';
const lifecycle = 'Constellation manages the container lifecycle itself';

/** Service-level keys that are ignored with a warning, and why. */
export const ignoredServiceKeys: Readonly<Record<string, string>> = {
  links: `${networking}; every service is reachable by its name without links`,
  external_links: networking,
  dns: networking,
  dns_opt: networking,
  dns_search: networking,
  extra_hosts: networking,
  hostname: networking,
  domainname: networking,
  mac_address: networking,
  expose: 'it only documents ports; nothing is published',
  privileged: hostLevel,
  pid: hostLevel,
  ipc: hostLevel,
  uts: hostLevel,
  userns_mode: hostLevel,
  cgroup: hostLevel,
  cgroup_parent: hostLevel,
  security_opt: hostLevel,
  sysctls: hostLevel,
  ulimits: hostLevel,
  group_add: hostLevel,
  device_cgroup_rules: hostLevel,
  oom_kill_disable: hostLevel,
  oom_score_adj: hostLevel,
  isolation: hostLevel,
  runtime: hostLevel,
  init: hostLevel,
  read_only: hostLevel,
  shm_size: hostLevel,
  storage_opt: hostLevel,
  credential_spec: hostLevel,
  use_api_socket: hostLevel,
  gpus: hostLevel,
  blkio_config: tuning,
  cpu_count: tuning,
  cpu_percent: tuning,
  cpu_period: tuning,
  cpu_quota: tuning,
  cpu_rt_period: tuning,
  cpu_rt_runtime: tuning,
  cpu_shares: tuning,
  cpuset: tuning,
  mem_swappiness: tuning,
  memswap_limit: tuning,
  stdin_open: 'containers run detached without an attached terminal',
  tty: 'containers run detached without an attached terminal',
  attach: 'containers run detached without an attached terminal',
  logging: 'containers use the engine\'s default logging driver',
  annotations: 'annotations are not passed to the engine',
  label_file: 'label files are not read; put labels under "labels:"',
  platform: 'the engine pulls the image for its own platform',
  pull_policy: 'images are pulled when missing on a node',
  pull_refresh_after: 'images are pulled when missing on a node',
  volumes_from: 'containers of other services may run on other nodes',
  profiles: 'the service is deployed regardless of profiles',
  secrets: 'secrets are not distributed by Constellation; the secret files will not exist in the container',
  configs: 'configs are not distributed by Constellation; the config files will not exist in the container',
  models: 'AI models are not provisioned by Constellation',
  develop: 'development (watch) settings do not apply to a deployment',
  post_start: lifecycle,
  pre_start: lifecycle,
  pre_stop: lifecycle,
};

/** Service-level keys that make a deployment impossible or wrong when ignored. */
export const refusedServiceKeys: Readonly<Record<string, string>> = {
  extends: 'the service would miss everything it inherits; inline the extended service',
  provider: 'the service is run by a Compose provider plugin, not as a container',
};

/** Top-level keys: refused ones and ones whose entries are ignored with a warning. */
export const refusedTopLevelKeys: Readonly<Record<string, string>> = {
  include: 'the included services would be missing; merge the files into one',
};

export const ignoredTopLevelKeys: Readonly<Record<string, string>> = {
  version: 'it is obsolete and ignored (as in Compose)',
  secrets: 'secrets are not distributed by Constellation',
  configs: 'configs are not distributed by Constellation',
  models: 'AI models are not provisioned by Constellation',
};

/** Keys of a top-level volume that are ignored: volumes are local to the node that runs the replica. */
export const ignoredVolumeKeys: readonly string[] = ['driver', 'driver_opts', 'labels'];

const noScheduler = 'there is no scheduler yet: every replica runs on the node that takes the deploy';
const noReservations = 'resources are not reserved; only limits (deploy.resources.limits, cpus, mem_limit, pids_limit) are applied';

export function checkServiceKeys(service: Record<string, unknown>, servicePath: readonly (string | number)[], sink: DiagnosticSink): void {
  for (const key of Object.keys(service)) {
    const refused = refusedServiceKeys[key];
    if (refused !== undefined) {
      sink.error([...servicePath, key], composeCodes.unsupportedKey, `"${key}" is not supported by Constellation: ${refused}`);
      continue;
    }
    const ignored = ignoredServiceKeys[key];
    if (ignored !== undefined) sink.warning([...servicePath, key], composeCodes.ignoredKey, `"${key}" is not honoured: ${ignored}`);
  }
  checkUnappliedKeys(service, servicePath, sink);
}

/**
 * Keys the loader reads into the spec (so GET /v1/services shows them and a later scheduler can
 * use them) but that nothing applies yet: warned about only when they ask for something, since
 * an empty list or `restart: false` loses nothing.
 */
export function checkUnappliedKeys(service: Record<string, unknown>, servicePath: readonly (string | number)[], sink: DiagnosticSink): void {
  const deploy = asRecord(service.deploy);
  const placement = asRecord(deploy?.placement);
  for (const key of ['constraints', 'preferences']) {
    if (Array.isArray(placement?.[key]) && placement[key].length > 0) {
      sink.warning([...servicePath, 'deploy', 'placement', key], composeCodes.ignoredKey, `deploy.placement.${key} is not honoured: ${noScheduler}`);
    }
  }
  const reservations = asRecord(asRecord(deploy?.resources)?.reservations);
  for (const key of ['cpus', 'memory', 'pids']) {
    if (reservations?.[key] !== undefined) {
      sink.warning([...servicePath, 'deploy', 'resources', 'reservations', key], composeCodes.ignoredKey, `deploy.resources.reservations.${key} is not honoured: ${noReservations}`);
    }
  }
  const labels = deploy?.labels;
  if (Array.isArray(labels) ? labels.length > 0 : Object.keys(asRecord(labels) ?? {}).length > 0) {
    sink.warning([...servicePath, 'deploy', 'labels'], composeCodes.ignoredKey,
      'deploy.labels is not honoured: these label the Swarm service object, which has no counterpart here; use "labels" to label the containers');
  }
  if (service.mem_reservation !== undefined) {
    sink.warning([...servicePath, 'mem_reservation'], composeCodes.ignoredKey, `"mem_reservation" is not honoured: ${noReservations}`);
  }
  for (const [dependency, how] of Object.entries(asRecord(service.depends_on) ?? {})) {
    const restart = asRecord(how)?.restart;
    if (restart === true || restart === 'true') {
      sink.warning([...servicePath, 'depends_on', dependency, 'restart'], composeCodes.ignoredKey,
        `depends_on.${dependency}.restart is not honoured: this service is not restarted when "${dependency}" is restarted or updated`);
    }
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

export function checkTopLevelKeys(root: Record<string, unknown>, sink: DiagnosticSink): void {
  for (const [key, value] of Object.entries(root)) {
    const refused = refusedTopLevelKeys[key];
    if (refused !== undefined) {
      sink.error([key], composeCodes.unsupportedKey, `"${key}" is not supported by Constellation: ${refused}`);
      continue;
    }
    const ignored = ignoredTopLevelKeys[key];
    if (ignored === undefined) continue;
    const entries = key !== 'version' && value !== null && typeof value === 'object' ? Object.keys(value) : [];
    if (entries.length === 0) {
      sink.warning([key], composeCodes.ignoredKey, `"${key}" is not honoured: ${ignored}`);
    } else {
      for (const entry of entries) sink.warning([key, entry], composeCodes.ignoredKey, `${key} "${entry}" is not honoured: ${ignored}`);
    }
  }
}
