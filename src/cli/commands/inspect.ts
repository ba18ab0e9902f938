import type { Command } from 'commander';
import { writeLine, type CliIo } from '../cli-io.ts';
import { apiClientFor, withClientOptions, type ClientOptions } from '../client-options.ts';
import { ExitCode } from '../exit-codes.ts';
import { filterQuery, followStream } from '../follow-stream.ts';

interface InspectOptions extends ClientOptions {
  filter: string[];
  json?: boolean;
  readOnly?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerInspectCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  withClientOptions(program.command('inspect')
    .description('print the URL of the daemon\'s live actor viewer (or stream the actors as JSON lines with --json)')
    .option('-f, --filter <key=value>', 'only actors of this kind (e.g. kind=container) or id prefix (e.g. id=container.web_); repeatable', collect, [])
    .option('--json', 'stream @statelyai/inspect frames, one JSON object per line, until Ctrl-C')
    .option('--read-only', 'use the read-only token (the URLs can be handed to a viewer who must not deploy)'))
    .action(async (options: InspectOptions) => {
      const query = filterQuery(options.filter, ['kind', 'id']);
      const client = apiClientFor(options, io, options.readOnly ? 'read-only' : 'admin');
      if (options.json) {
        setExit(await followStream(client, `/v1/inspect${query}`, io, (frame) => writeLine(io.stdout, JSON.stringify(frame))));
        return;
      }
      // The page reads the token from the fragment (never sent to the server) and forgets it there.
      const filters = Object.fromEntries(new URLSearchParams(query.slice(1)));
      writeLine(io.stdout, client.pageUrl('/inspect', filters));
      writeLine(io.stderr, `cluster view: ${client.pageUrl('/', {})}`);
      setExit(ExitCode.ok);
    });
}
