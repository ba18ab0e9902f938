import type { Command } from 'commander';
import type { ContainerInfo } from '../../api/api-deps.ts';
import { writeLine, type CliIo } from '../cli-io.ts';
import { apiClientFor, withClientOptions, type ClientOptions } from '../client-options.ts';
import { ExitCode } from '../exit-codes.ts';
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
      const client = apiClientFor(options, io);
      await client.delete(`/v1/stacks/${encodeURIComponent(stack)}`);
      writeLine(io.stdout, `stack ${stack} removal accepted`);
      if (options.detach) {
        setExit(ExitCode.ok);
        return;
      }
      const timeoutMs = Math.max(1, Number(options.timeout) || 120) * 1000;
      let left = 0;
      const outcome = await waitUntil(async () => {
        const containers = await client.get<ContainerInfo[]>(`/v1/containers?stack=${encodeURIComponent(stack)}`);
        left = containers.length;
        return left === 0 ? 'removed' : undefined;
      }, { timeoutMs, intervalMs: 300, ...(io.interrupted ? { interrupted: io.interrupted } : {}) });
      if (outcome === 'removed') {
        writeLine(io.stdout, `stack ${stack} removed`);
        setExit(ExitCode.ok);
      } else if (outcome === 'interrupted') {
        setExit(ExitCode.interrupted);
      } else {
        writeLine(io.stderr, `error: ${left} container(s) of stack ${stack} still present after ${timeoutMs / 1000} s`);
        setExit(ExitCode.failed);
      }
    });
}
