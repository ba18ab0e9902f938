import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.ts';
import { ApiClient } from './api-client.ts';
import { CliError } from './cli-error.ts';
import type { CliIo } from './cli-io.ts';
import { ExitCode } from './exit-codes.ts';

export const defaultApiUrl = 'http://127.0.0.1:7420';

export interface ClientOptions {
  api?: string;
  token?: string;
  config?: string;
}

/** `--api`, `--token` and `--config` on every command that talks to a running daemon. */
export function withClientOptions(command: Command): Command {
  return command
    .option('--api <url>', `daemon API URL (default: $CONSTELLATION_API_URL, else from --config, else ${defaultApiUrl})`)
    .option('--token <token>', 'API bearer token, when the daemon sets api.token (default: $CONSTELLATION_API_TOKEN, else from --config)')
    .option('-c, --config <file>', 'the daemon\'s config file: take the API address and token from it');
}

/** A wildcard bind address is reached through loopback from this machine. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function fromConfigFile(file: string, io: CliIo): { url: string; token: string } {
  const loaded = loadConfig({ file, env: io.env });
  if (!loaded.ok) throw new CliError(ExitCode.invalid, `invalid configuration in ${file}`, loaded.errors);
  return { url: `http://${reachableHost(loaded.config.api.host)}:${loaded.config.api.port}`, token: loaded.config.api.token };
}

/** Precedence: flags, then CONSTELLATION_API_URL / CONSTELLATION_API_TOKEN, then --config, then the default. */
export function apiClientFor(options: ClientOptions, io: CliIo): ApiClient {
  const configured = options.config ? fromConfigFile(options.config, io) : undefined;
  const token = options.token ?? io.env.CONSTELLATION_API_TOKEN ?? configured?.token;
  return new ApiClient({
    baseUrl: options.api ?? io.env.CONSTELLATION_API_URL ?? configured?.url ?? defaultApiUrl,
    ...(token ? { token } : {}),
  });
}
