import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load-config.ts';
import { formatDiagnostic } from '../compose/diagnostics.ts';
import { ExitCode } from '../cli/exit-codes.ts';
import { createLogger } from '../log/create-logger.ts';
import { installProcessGuards } from './process-guards.ts';
import { startDaemon, DaemonStartError, type RunningDaemon } from './start-daemon.ts';
import type { ClusterApi, JoinTokens } from '../api/api-deps.ts';
import { identityPath } from '../cluster-mode/cluster-identity.ts';

export interface RunDaemonOptions {
  readonly configFile?: string;
  readonly overrides: Record<string, string>;
  readonly env: NodeJS.ProcessEnv;
  readonly stderr: NodeJS.WritableStream;
  /** `constellation cluster init`: refuse a data dir that is already a member, print the tokens once issued. */
  readonly init?: { readonly printTokens: (tokens: JoinTokens, joinAddress: string | undefined) => void };
}

const refusalCodes = new Set([
  'insecure_api', 'api_token_insecure', 'api_token_invalid', 'api_token_unreadable', 'identity_corrupt', 'identity_node_mismatch', 'not_in_cluster', 'no_seeds',
  'token_malformed', 'token_checksum_mismatch', 'token_wrong_cluster', 'token_wrong_role', 'token_rotated', 'token_invalid', 'join_proof_invalid',
  'node_id_taken', 'too_many_managers', 'already_in_cluster',
  'seed_malformed', 'seed_duplicate', 'discovery_malformed', 'discovery_too_large',
]);

/** A stop that hangs (a stuck engine call) must not keep the process from exiting. */
const shutdownGraceMs = 15_000;

/**
 * Runs the daemon as this process's job: load config, start, then wait for SIGTERM/SIGINT and
 * stop gracefully. Resolves with the process exit code.
 */
export async function runDaemonProcess(options: RunDaemonOptions): Promise<number> {
  const loaded = loadConfig({ ...(options.configFile ? { file: options.configFile } : {}), env: options.env, overrides: options.overrides });
  if (!loaded.ok) {
    options.stderr.write(`error: invalid configuration${options.configFile ? ` in ${options.configFile}` : ''}\n`);
    for (const diagnostic of loaded.errors) options.stderr.write(`  ${formatDiagnostic(diagnostic)}\n`);
    return ExitCode.invalid;
  }
  const config = loaded.config;
  let logger: Logger;
  try {
    logger = createLogger({ level: config.log.level, format: config.log.format });
  } catch (error) {
    options.stderr.write(`error: ${(error as Error).message}\n`);
    return ExitCode.invalid;
  }
  for (const warning of loaded.warnings) logger.warn({ code: warning.code }, formatDiagnostic(warning));
  const removeGuards = installProcessGuards(logger);
  let daemon: RunningDaemon;
  try {
    if (options.init) await refuseSecondBootstrap(config.node.dataDir);
    daemon = await startDaemon(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'daemon failed to start');
    removeGuards();
    // Refusals the user fixes in the config or the data dir are usage errors; the rest are failures.
    return refusalCodes.has(String((error as { code?: string }).code)) ? ExitCode.invalid : ExitCode.failed;
  }
  const init = options.init;
  if (init && daemon.cluster) {
    const cluster = daemon.cluster;
    void printTokensOnceIssued(cluster, (tokens) => init.printTokens(tokens, daemon.clusterAddress), logger);
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info({ signal }, 'shutting down (containers keep running)');
  // A second signal means "now": skip the graceful path.
  const forceExit = () => {
    logger.warn('second signal: exiting without a clean shutdown');
    process.exit(ExitCode.failed);
  };
  process.once('SIGTERM', forceExit);
  process.once('SIGINT', forceExit);
  const timer = setTimeout(() => {
    logger.error({ shutdownGraceMs }, 'shutdown took too long; exiting');
    process.exit(ExitCode.failed);
  }, shutdownGraceMs);
  timer.unref();
  try {
    await daemon.stop();
    return ExitCode.ok;
  } catch (error) {
    logger.error({ err: error }, 'error while shutting down');
    return ExitCode.failed;
  } finally {
    clearTimeout(timer);
    removeGuards();
  }
}

/**
 * `cluster init` is the explicit, one-shot bootstrap: a data directory that already belongs to a
 * cluster is refused before anything starts (the `cluster.bootstrap` key, by contrast, is ignored
 * on a member, so a config that keeps it survives restarts).
 */
async function refuseSecondBootstrap(dataDir: string): Promise<void> {
  const path = identityPath(resolve(dataDir));
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  let member = '';
  try {
    const identity = JSON.parse(text) as { clusterId?: unknown; nodeId?: unknown };
    member = ` (cluster ${String(identity.clusterId)}, node ${String(identity.nodeId)})`;
  } catch {
    // Named by path alone; the daemon's own start reports a corrupt identity.
  }
  throw new DaemonStartError('already_in_cluster', `${resolve(dataDir)} already belongs to a cluster${member}: cluster init starts a new one only on a fresh data dir. Restart this daemon without init (\`constellation --config ...\`), or use another --data-dir`);
}

/** The bootstrap leader issues the tokens just after it starts; poll until it has. */
async function printTokensOnceIssued(cluster: ClusterApi, print: (tokens: JoinTokens) => void, logger: Logger): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      print(cluster.tokens());
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  logger.warn('no join tokens issued within 60 s; `constellation cluster tokens` prints them once the cluster has a leader');
}
