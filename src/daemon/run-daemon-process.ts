import type { Logger } from 'pino';
import { loadConfig } from '../config/load-config.ts';
import { formatDiagnostic } from '../compose/diagnostics.ts';
import { ExitCode } from '../cli/exit-codes.ts';
import { createLogger } from '../log/create-logger.ts';
import { installProcessGuards } from './process-guards.ts';
import { startDaemon, type RunningDaemon } from './start-daemon.ts';

export interface RunDaemonOptions {
  readonly configFile?: string;
  readonly overrides: Record<string, string>;
  readonly env: NodeJS.ProcessEnv;
  readonly stderr: NodeJS.WritableStream;
}

const refusalCodes = new Set([
  'insecure_api', 'api_token_insecure', 'api_token_invalid', 'api_token_unreadable', 'identity_corrupt', 'identity_node_mismatch', 'not_in_cluster', 'no_seeds',
  'token_malformed', 'token_checksum_mismatch', 'token_wrong_cluster', 'token_wrong_role', 'token_rotated', 'token_invalid', 'join_proof_invalid',
  'node_id_taken', 'too_many_managers',
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
    daemon = await startDaemon(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'daemon failed to start');
    removeGuards();
    // Refusals the user fixes in the config or the data dir are usage errors; the rest are failures.
    return refusalCodes.has(String((error as { code?: string }).code)) ? ExitCode.invalid : ExitCode.failed;
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
