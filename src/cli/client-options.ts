import type { Command } from 'commander';
import { ApiClient } from './api-client.ts';
import type { CliIo } from './cli-io.ts';

export const defaultApiUrl = 'http://127.0.0.1:7420';

export interface ClientOptions {
  api?: string;
  token?: string;
}

/** `--api` and `--token` on every command that talks to a running daemon. */
export function withClientOptions(command: Command): Command {
  return command
    .option('--api <url>', `daemon API URL (default: $CONSTELLATION_API_URL or ${defaultApiUrl})`)
    .option('--token <token>', 'API bearer token, when the daemon sets api.token (default: $CONSTELLATION_API_TOKEN)');
}

export function apiClientFor(options: ClientOptions, io: CliIo): ApiClient {
  const token = options.token ?? io.env.CONSTELLATION_API_TOKEN;
  return new ApiClient({
    baseUrl: options.api ?? io.env.CONSTELLATION_API_URL ?? defaultApiUrl,
    ...(token ? { token } : {}),
  });
}
