import type { Command } from 'commander';
import { CliError } from '../cli-error.ts';
import { writeLine, type CliIo } from '../cli-io.ts';
import { apiClientFor, withClientOptions, type ClientOptions } from '../client-options.ts';
import { ExitCode } from '../exit-codes.ts';
import { filterQuery, followStream } from '../follow-stream.ts';

interface EventsOptions extends ClientOptions {
  since?: string;
  filter: string[];
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** One readable line per event: index, time, type, what it is about. */
export function renderEvent(frame: Record<string, unknown>): string {
  const type = String(frame.type);
  const time = typeof frame.atMs === 'number' ? new Date(frame.atMs).toISOString().slice(11, 19) : '--:--:--';
  const { index: _index, atMs: _atMs, type: _type, ...rest } = frame;
  const about = [
    frame.stack !== undefined ? `${String(frame.stack)}${frame.service !== undefined ? `/${String(frame.service)}` : ''}${frame.slot !== undefined ? `.${String(frame.slot)}` : ''}` : undefined,
    frame.node !== undefined ? `on ${String(frame.node)}` : undefined,
  ].filter(Boolean).join(' ');
  const skip = new Set(['stack', 'service', 'slot', 'node', 'container']);
  const details = Object.entries(rest).filter(([key]) => !skip.has(key)).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join(' ');
  return [`#${String(frame.index)}`, time, type, about, details].filter((part) => part !== '').join('  ');
}

export function registerEventsCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withClientOptions(program.command('events')
    .description('follow the cluster\'s events (deploys, replicas, nodes, leader) until Ctrl-C')
    .option('--since <index>', 'first replay the events after this index (0: all the daemon still holds)')
    .option('-f, --filter <key=value>', 'only events with type (replica.* for a prefix), stack, service or node equal to value; repeatable', collect, [])
    .option('--json', 'one JSON object per line, control frames included'))
    .action(async (options: EventsOptions) => {
      if (options.since !== undefined && !/^\d{1,15}$/.test(options.since)) throw new CliError(ExitCode.invalid, `--since must be a non-negative integer index, got ${JSON.stringify(options.since)}`);
      const query = filterQuery(options.filter, ['type', 'stack', 'service', 'node'], { since: options.since });
      const client = apiClientFor(options, io);
      setExit(await followStream(client, `/v1/events${query}`, io, (frame) => {
        if (options.json) return writeLine(io.stdout, JSON.stringify(frame));
        if (frame.type === 'stream.gap' || frame.type === 'stream.reset') return writeLine(io.stderr, `warning: ${String(frame.message)}`);
        if (typeof frame.index === 'number') writeLine(io.stdout, renderEvent(frame));
      }));
    });
}
