import type { Command } from 'commander';
import type { CliIo } from '../cli-io.ts';

export interface DaemonFlags {
  config?: string;
  dockerHost?: string;
  dataDir?: string;
  apiHost?: string;
  apiPort?: string;
  logLevel?: string;
  nodeId?: string;
  bootstrap?: boolean;
  join?: string;
  token?: string;
  clusterListen?: string;
  advertise?: string;
}

/** Flags that override config keys (dotted paths as the config loader takes them). */
export function configOverrides(flags: DaemonFlags): Record<string, string> {
  const overrides: Record<string, string> = {};
  if (flags.dockerHost !== undefined) overrides['docker.host'] = flags.dockerHost;
  if (flags.dataDir !== undefined) overrides['node.dataDir'] = flags.dataDir;
  if (flags.apiHost !== undefined) overrides['api.host'] = flags.apiHost;
  if (flags.apiPort !== undefined) overrides['api.port'] = flags.apiPort;
  if (flags.logLevel !== undefined) overrides['log.level'] = flags.logLevel;
  if (flags.nodeId !== undefined) overrides['node.id'] = flags.nodeId;
  if (flags.bootstrap === true) overrides['cluster.bootstrap'] = 'true';
  if (flags.join !== undefined) overrides['cluster.seeds'] = flags.join;
  if (flags.token !== undefined) overrides['cluster.token'] = flags.token;
  if (flags.advertise !== undefined) overrides['cluster.advertiseAddress'] = flags.advertise;
  if (flags.clusterListen !== undefined) {
    const colon = flags.clusterListen.lastIndexOf(':');
    overrides['cluster.listen.host'] = colon > 0 ? flags.clusterListen.slice(0, colon).replace(/^\[|\]$/g, '') : flags.clusterListen;
    if (colon > 0) overrides['cluster.listen.port'] = flags.clusterListen.slice(colon + 1);
  }
  return overrides;
}

export function withDaemonOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'config file (YAML); every key has a default, see config/constellation.yml.example')
    .option('--docker-host <url>', 'Docker engine, e.g. unix:///var/run/docker.sock (overrides docker.host and $DOCKER_HOST)')
    .option('--data-dir <dir>', 'where desired state is stored (overrides node.dataDir)')
    .option('--api-host <host>', 'API bind address (overrides api.host; non-loopback needs api.token)')
    .option('--api-port <port>', 'API port (overrides api.port)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace (overrides log.level)')
    .option('--node-id <id>', 'this node\'s id (overrides node.id)')
    .option('--bootstrap', 'start a new cluster with this node as its first manager (cluster.bootstrap)')
    .option('--join <addresses>', 'join the cluster through these managers\' cluster ports, host:port[,host:port] (cluster.seeds)')
    .option('--token <token>', 'join token from `constellation cluster tokens` on a manager (cluster.token)')
    .option('--cluster-listen <host:port>', 'where the cluster port listens (cluster.listen.host/port)')
    .option('--advertise <host:port>', 'the address peers dial for this node (cluster.advertiseAddress)');
}

/** Runs the daemon in this process until SIGTERM/SIGINT; the daemon module loads only when needed. */
export async function runDaemonCommand(flags: DaemonFlags, io: CliIo): Promise<number> {
  const { runDaemonProcess } = await import('../../daemon/run-daemon-process.ts');
  return runDaemonProcess({ ...(flags.config ? { configFile: flags.config } : {}), overrides: configOverrides(flags), env: io.env, stderr: io.stderr });
}
