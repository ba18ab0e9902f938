import type { Command } from 'commander';
import type { ContainerInfo } from '../../api/api-deps.ts';
import { writeLine, type CliIo } from '../cli-io.ts';
import { apiClientFor, withClientOptions, type ClientOptions } from '../client-options.ts';
import { ExitCode } from '../exit-codes.ts';
import { formatElapsed } from '../render/elapsed.ts';
import { ProgressDisplay, removalItems } from '../render/progress.ts';
import { waitUntil } from '../wait-until.ts';

interface RmOptions extends ClientOptions {
  detach?: boolean;
  timeout: string;
}

export function registerRmCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withClientOptions(program.command('rm')
    .description('remove a stack and wait until its containers are gone')
    .argument('<stack>', 'stack name')
    .option('-d, --detach', 'return once the daemon accepted the removal')
    .option('--timeout <seconds>', 'how long to wait for the containers to go', '120'))
    .action(async (stack: string, options: RmOptions) => {
      const startedMs = Date.now();
      const client = apiClientFor(options, io);
      await client.delete(`/v1/stacks/${encodeURIComponent(stack)}`);
      writeLine(io.stdout, `stack ${stack} removal accepted`);
      if (options.detach) {
        setExit(ExitCode.ok);
        return;
      }
      const timeoutMs = Math.max(1, Number(options.timeout) || 120) * 1000;
      // Each stop waits out the service's grace period: show per service what is left and doing what.
      const display = new ProgressDisplay(io.stdout);
      const seen = new Map<string, number>();
      let left = 0;
      const outcome = await waitUntil(async () => {
        const containers = await client.get<ContainerInfo[]>(`/v1/containers?stack=${encodeURIComponent(stack)}`);
        left = containers.length;
        display.show(removalItems(containers, seen));
        return left === 0 ? 'removed' : undefined;
      }, { timeoutMs, intervalMs: display.interactive ? 150 : 300, ...(io.interrupted ? { interrupted: io.interrupted } : {}) });
      const elapsed = formatElapsed(Date.now() - startedMs);
      if (outcome === 'removed') {
        writeLine(io.stdout, `stack ${stack} removed in ${elapsed}`);
        setExit(ExitCode.ok);
      } else if (outcome === 'interrupted') {
        writeLine(io.stderr, `interrupted after ${elapsed}: the removal of stack ${stack} was accepted and goes on in the daemon (${left} container(s) left)`);
        setExit(ExitCode.interrupted);
      } else {
        writeLine(io.stderr, `error: ${left} container(s) of stack ${stack} still present after ${timeoutMs / 1000} s`);
        setExit(ExitCode.failed);
      }
    });
}
