import type { Command } from 'commander';
import type { ServiceRow } from '../../api/service-rows.ts';
import { writeLine, type CliIo } from '../cli-io.ts';
import { apiClientFor, withClientOptions, type ClientOptions } from '../client-options.ts';
import { ExitCode } from '../exit-codes.ts';
import { renderTable } from '../render/table.ts';
import { requireKnownStack } from '../require-stack.ts';

interface ServicesOptions extends ClientOptions {
  stack?: string;
  json?: boolean;
}

function statusOf(row: ServiceRow): string {
  const state = row.failed ? 'failed' : row.converged ? 'converged' : 'converging';
  const text = row.message ? `${state}: ${row.message}` : state;
  // A VPN group's members say how their link is: `vpn: up`, `vpn: recovering (restarting 3 dependents)`.
  return row.vpn ? `${text}; vpn${row.vpn.role === 'dependent' ? ` ${row.vpn.group}` : ''}: ${row.vpn.detail}` : text;
}

export function registerServicesCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withClientOptions(program.command('services')
    .description('list services: desired replicas and what really runs')
    .option('-s, --stack <name>', 'only this stack')
    .option('--json', 'print JSON instead of a table'))
    .action(async (options: ServicesOptions) => {
      const query = options.stack ? `?stack=${encodeURIComponent(options.stack)}` : '';
      const client = apiClientFor(options, io);
      const rows = await client.get<ServiceRow[]>(`/v1/services${query}`);
      await requireKnownStack(client, options.stack, rows.length);
      if (options.json) {
        writeLine(io.stdout, JSON.stringify(rows, null, 2));
      } else {
        writeLine(io.stdout, renderTable(['SERVICE', 'REPLICAS', 'HEALTHY', 'IMAGE', 'STATUS'], rows.map((row) => [
          row.id, `${row.running}/${row.desiredReplicas}`, row.healthcheck ? String(row.healthy) : '-', row.image, statusOf(row),
        ])));
      }
      setExit(ExitCode.ok);
    });
}
