import { basename, dirname } from 'node:path';
import type { Command } from 'commander';
import { isLoopbackHost } from '../../config/loopback.ts';
import { stringify } from 'yaml';
import type { ApiDiagnostic } from '../../api/api-error.ts';
import type { DeployReply } from '../../api/routes/deploy.ts';
import type { StackSummary } from '../../api/routes/stacks.ts';
import type { ServiceRow } from '../../api/service-rows.ts';
import { loadCompose } from '../../compose/load-compose.ts';
import { CliError } from '../cli-error.ts';
import { writeLine, type CliIo } from '../cli-io.ts';
import { apiClientFor, withClientOptions, type ClientOptions } from '../client-options.ts';
import { readComposeInput } from '../compose-input.ts';
import { ExitCode } from '../exit-codes.ts';
import { composeRejected, printComposeWarnings, type ComposeFileNames } from '../render/compose-report.ts';
import { formatElapsed } from '../render/elapsed.ts';
import { ProgressDisplay, serviceItems } from '../render/progress.ts';
import { withRollout } from '../render/rollout.ts';
import type { RolloutView } from '../../orchestrator/rollout/rollout-views.ts';
import { waitUntil } from '../wait-until.ts';

interface DeployOptions extends ClientOptions {
  file: string;
  stack?: string;
  detach?: boolean;
  dryRun?: boolean;
  timeout: string;
}

function parseTimeoutSeconds(raw: string): number {
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new CliError(ExitCode.invalid, `--timeout must be a positive number of seconds, got "${raw}"`);
  return seconds;
}

/**
 * --dry-run: load and normalize locally, print the result; the daemon is never contacted. Errors
 * and warnings look exactly as a real deploy's: same header, same file name, same stream.
 */
function dryRun(io: CliIo, input: { path: string; content: string; stack: string }, givenFile: string): number {
  const env = Object.fromEntries(Object.entries(io.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const loaded = loadCompose({ content: input.content, file: input.path, stackName: input.stack, env });
  const names = { given: givenFile, inDiagnostics: input.path };
  if (!loaded.ok) throw composeRejected([...loaded.errors, ...loaded.warnings], names);
  writeLine(io.stdout, `# stack ${loaded.stack.name}: ${loaded.stack.services.length} service(s), normalized (dry run: nothing was deployed)`);
  // Plain YAML: services that share a value (e.g. one default restart policy object) would
  // otherwise print as anchors and aliases (&a1 / *a1) that the user never wrote.
  io.stdout.write(stringify({ name: loaded.stack.name, services: loaded.stack.services }, { aliasDuplicateObjects: false }));
  printComposeWarnings(io.stderr, loaded.warnings, names);
  return ExitCode.ok;
}

/** A daemon's invalid_compose answer, rendered as --dry-run renders the same file. */
async function postDeploy(client: ReturnType<typeof apiClientFor>, body: unknown, names: ComposeFileNames): Promise<DeployReply> {
  try {
    return await client.post<DeployReply>('/v1/deploy', body);
  } catch (error) {
    if (error instanceof CliError && error.code === 'invalid_compose') throw composeRejected(error.diagnostics, names);
    throw error;
  }
}

export function registerDeployCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withClientOptions(program.command('deploy')
    .description('deploy a compose file as a stack and wait until every service runs its replicas')
    .requiredOption('-f, --file <file>', 'compose file (YAML or JSON)')
    .option('-s, --stack <name>', 'stack name (default: the file\'s top-level name, else its directory name)')
    .option('-d, --detach', 'return once the daemon accepted the deploy, without waiting for convergence')
    .option('--dry-run', 'load and normalize the file locally, print the services and warnings, deploy nothing')
    .option('--timeout <seconds>', 'how long to wait for convergence', '300'))
    .action(async (options: DeployOptions) => {
      const startedMs = Date.now();
      const timeoutSeconds = parseTimeoutSeconds(options.timeout);
      const input = await readComposeInput(options.file, options.stack, io.env);
      if (options.dryRun) {
        setExit(dryRun(io, input, options.file));
        return;
      }
      const client = apiClientFor(options, io);
      const names = { given: options.file, inDiagnostics: basename(input.path) };
      const accepted = await postDeploy(client, {
        stack: input.stack, compose: input.content, env: input.env, file: basename(input.path),
        // A daemon on this machine can resolve relative bind mounts and env_files like compose does.
        ...(isLoopbackHost(client.host) ? { workingDir: dirname(input.path) } : {}),
      }, names);
      printComposeWarnings(io.stderr, accepted.warnings as ApiDiagnostic[], names);
      writeLine(io.stdout, `stack ${accepted.stack} accepted (version ${accepted.version}, services: ${accepted.services.join(', ') || 'none'})`);
      if (options.detach) {
        setExit(ExitCode.ok);
        return;
      }
      setExit(await waitForConvergence(io, client, accepted.stack, accepted.version, timeoutSeconds * 1000, startedMs));
    });
}

/**
 * Waits for the stack to converge and, for a changed deploy, for its rollout to end: the live
 * lines show each rolling service's batch, replicas updated/healthy/failed and time in monitor.
 * A rollout that rolled back, failed or paused ends the wait with exit 1 and its reason.
 */
async function waitForConvergence(io: CliIo, client: ReturnType<typeof apiClientFor>, stack: string, version: number, timeoutMs: number, startedMs: number): Promise<number> {
  const display = new ProgressDisplay(io.stdout);
  let rows: ServiceRow[] = [];
  let rollout: RolloutView | undefined;
  const show = () => display.show(withRollout(serviceItems(rows), rollout, version));
  const outcome = await waitUntil(async () => {
    const summary = await client.get<StackSummary & { serviceStatus: ServiceRow[] }>(`/v1/stacks/${encodeURIComponent(stack)}`);
    rows = summary.serviceStatus;
    rollout = await client.get<RolloutView>(`/v1/stacks/${encodeURIComponent(stack)}/rollout`).catch(() => undefined);
    show();
    const mine = rollout?.rollout?.id === version ? rollout.rollout : undefined;
    // Rolled back means the previous spec is current again: wait for that commit, which follows.
    const reverted = mine?.services.every((part) => part.phase !== 'rolled-back' || part.revertedBy !== undefined) ?? false;
    if (mine && ((mine.state === 'rolled-back' && reverted) || mine.state === 'failed' || mine.state === 'paused')) return mine.state;
    if (!mine && rows.some((row) => row.failed)) return 'failed';
    return summary.converged ? 'converged' : undefined;
  }, { timeoutMs, intervalMs: display.interactive ? 150 : 500, ...(io.interrupted ? { interrupted: io.interrupted } : {}) });
  show();
  const elapsed = formatElapsed(Date.now() - startedMs);
  const reason = rollout?.rollout?.reason ?? 'no reason recorded';
  switch (outcome) {
    case 'converged':
      writeLine(io.stdout, `stack ${stack} converged in ${elapsed}: ${rows.map((row) => `${row.service} ${row.running}/${row.desiredReplicas}`).join(', ')}`);
      return ExitCode.ok;
    case 'rolled-back':
      writeLine(io.stderr, `error: stack ${stack} rolled back after ${elapsed}: ${reason}; it runs version ${rollout?.rollout?.fromVersion ?? '?'}'s spec again (as version ${Math.max(...(rollout?.rollout?.services ?? []).map((part) => part.revertedBy ?? 0))})`);
      return ExitCode.failed;
    case 'paused':
      writeLine(io.stderr, `error: the rollout of stack ${stack} paused after ${elapsed}: ${reason}; deploy a fixed file to go on, or go back with: constellation rollback ${stack}`);
      return ExitCode.failed;
    case 'failed': {
      if (rollout?.rollout?.id === version && rollout.rollout.state === 'failed') {
        writeLine(io.stderr, `error: the rollout of stack ${stack} failed after ${elapsed}: ${reason}`);
        return ExitCode.failed;
      }
      const failed = rows.filter((row) => row.failed).map((row) => `${row.service}${row.message ? ` (${row.message})` : ''}`);
      writeLine(io.stderr, `error: stack ${stack} failed after ${elapsed}: ${failed.join(', ')}`);
      return ExitCode.failed;
    }
    case 'timeout':
      writeLine(io.stderr, `error: stack ${stack} did not converge within ${timeoutMs / 1000} s; it keeps converging in the daemon (watch with: constellation services)`);
      return ExitCode.failed;
    case 'interrupted':
      writeLine(io.stderr, `interrupted after ${elapsed}: stack ${stack} was accepted and keeps converging in the daemon`);
      return ExitCode.interrupted;
  }
}
