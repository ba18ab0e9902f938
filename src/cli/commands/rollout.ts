import type { Command } from 'commander';
import type { RollbackReply } from '../../api/routes/rollouts.ts';
import type { HistoryEntryView, RolloutView } from '../../orchestrator/rollout/rollout-views.ts';
import { writeLine, type CliIo } from '../cli-io.ts';
import { apiClientFor, withClientOptions, type ClientOptions } from '../client-options.ts';
import { ExitCode } from '../exit-codes.ts';
import { describeServiceRollout } from '../render/rollout.ts';
import { renderTable } from '../render/table.ts';

interface JsonOptions extends ClientOptions {
  json?: boolean;
}

interface RollbackOptions extends ClientOptions {
  to?: string;
}

const path = (stack: string, what: string) => `/v1/stacks/${encodeURIComponent(stack)}/${what}`;

/** `rollout status STACK`, `history STACK`, `rollback STACK [SERVICE]` (issue 8). */
export function registerRolloutCommands(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const rollout = program.command('rollout').description('rolling updates: see where a stack\'s rollout stands');
  withClientOptions(rollout.command('status')
    .description('the stack\'s current (or last) rollout: state, and per service batch, replicas updated/healthy/failed, reason')
    .argument('<stack>', 'stack name')
    .option('--json', 'print JSON'))
    .action(async (stack: string, options: JsonOptions) => {
      const view = await apiClientFor(options, io).get<RolloutView>(path(stack, 'rollout'));
      if (options.json) writeLine(io.stdout, JSON.stringify(view, null, 2));
      else for (const line of renderRolloutStatus(view)) writeLine(io.stdout, line);
      setExit(ExitCode.ok);
    });

  withClientOptions(program.command('history')
    .description('the last 5 versions of a stack, newest first, and whether each became stable (every replica healthy)')
    .argument('<stack>', 'stack name')
    .option('--json', 'print JSON'))
    .action(async (stack: string, options: JsonOptions) => {
      const entries = await apiClientFor(options, io).get<HistoryEntryView[]>(path(stack, 'history'));
      if (options.json) {
        writeLine(io.stdout, JSON.stringify(entries, null, 2));
      } else {
        writeLine(io.stdout, renderTable(['VERSION', 'KIND', 'STABLE', 'AT', 'NOTE'], entries.map((entry) => [
          `${entry.version}${entry.current ? ' (current)' : ''}`,
          entry.kind,
          entry.stable ? 'yes' : 'no',
          entry.at,
          entry.kind === 'rollback' ? `restores ${entry.restores ?? '?'}${entry.service ? ` (${entry.service} only)` : ''}${entry.reason ? `: ${entry.reason}` : ''}` : '',
        ])));
      }
      setExit(ExitCode.ok);
    });

  withClientOptions(program.command('rollback')
    .description('go back to the previous stable version (the whole stack unless a service is named); it rolls out with rollback_config')
    .argument('<stack>', 'stack name')
    .argument('[service]', 'only this service')
    .option('--to <version>', 'this version instead of the previous stable one'))
    .action(async (stack: string, service: string | undefined, options: RollbackOptions) => {
      const toVersion = options.to === undefined ? undefined : Number(options.to);
      const reply = await apiClientFor(options, io).post<RollbackReply>(path(stack, 'rollback'), {
        ...(service ? { service } : {}),
        ...(toVersion !== undefined ? { toVersion } : {}),
      });
      writeLine(io.stdout, `stack ${reply.stack} rolling back to version ${reply.restores}${reply.service ? ` (${reply.service} only)` : ''} as version ${reply.version}; watch with: constellation rollout status ${reply.stack}`);
      setExit(ExitCode.ok);
    });
}

export function renderRolloutStatus(view: RolloutView): string[] {
  const rollout = view.rollout;
  if (!rollout) return [`stack ${view.stack} (version ${view.version}): no rollout (its last deploy replaced no replica)`];
  const lines = [`stack ${view.stack}: ${rollout.kind} to version ${rollout.id} (from ${rollout.fromVersion}), ${rollout.state}, started ${rollout.startedAt}${rollout.reason ? ` — ${rollout.reason}` : ''}`];
  for (const part of rollout.services) lines.push(`  ${part.service}: ${describeServiceRollout(part)}${part.revertedBy !== undefined ? ` (restored as version ${part.revertedBy})` : ''}`);
  return lines;
}
