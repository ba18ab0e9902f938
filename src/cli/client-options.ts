import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { apiTokenPath, readApiTokenFile, type ApiTokenScope } from '../adapters/api-token-file.ts';
import { loadConfig, type Config } from '../config/load-config.ts';
import { isLoopbackHost } from '../config/loopback.ts';
import { ApiClient } from './api-client.ts';
import { CliError } from './cli-error.ts';
import type { CliIo } from './cli-io.ts';
import { ExitCode } from './exit-codes.ts';

export const defaultApiUrl = 'http://127.0.0.1:7420';
/** The config `npm start` runs the daemon with; client commands read it too when it is there. */
export const defaultConfigFile = 'config/constellation.yml';

export interface ClientOptions {
  api?: string;
  token?: string;
  config?: string;
}

/** `--api`, `--token` and `--config` on every command that talks to a running daemon. */
export function withClientOptions(command: Command): Command {
  return command
    .option('--api <url>', `daemon API URL (default: $CONSTELLATION_API_URL, else from the config, else ${defaultApiUrl})`)
    .option('--token <token>', 'API bearer token (default: $CONSTELLATION_API_TOKEN, else the config\'s api.token, else the token file the daemon generated in its data dir)')
    .option('-c, --config <file>', `the daemon's config file: take the API address and token from it (default: ${defaultConfigFile} when it exists)`);
}

/** A wildcard bind address is reached through loopback from this machine. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The daemon's config as the daemon would load it: the given file, else the default one if present, else the defaults. */
function daemonConfig(options: ClientOptions, io: CliIo): { config: Config; label: string } {
  const file = options.config ?? (existsSync(defaultConfigFile) ? defaultConfigFile : undefined);
  const loaded = loadConfig({ ...(file ? { file } : {}), env: io.env });
  if (!loaded.ok) {
    const which = options.config ? file : `${file} (read by default; pass --config FILE for another)`;
    throw new CliError(ExitCode.invalid, file ? `invalid configuration in ${which}` : 'invalid configuration in the environment', loaded.errors);
  }
  return { config: loaded.config, label: file ?? `the default config (no ${defaultConfigFile} here)` };
}

interface TokenChoice {
  readonly token?: string;
  /** Said after a 401: which token was sent, or everywhere the CLI looked for one. */
  readonly hint: string;
}

/**
 * Precedence: --token, $CONSTELLATION_API_TOKEN, the config's api.token, the token file in the
 * config's data dir (relative to the working directory, as the daemon resolves it). The config's
 * token and the file belong to the daemon that config describes: they are sent to its own
 * address or to loopback, never to some other host named with --api.
 */
function chooseToken(options: ClientOptions, io: CliIo, daemon: { config: Config; label: string }, target: URL, configUrl: string, scope: ApiTokenScope): TokenChoice {
  const refuseHint = 'pass the daemon\'s config with --config FILE, or the token with --token or $CONSTELLATION_API_TOKEN';
  if (options.token) return { token: options.token, hint: 'the token given with --token was refused' };
  // $CONSTELLATION_API_TOKEN is the admin token; the read-only one comes from the config (also
  // $CONSTELLATION_API_READ_ONLY_TOKEN) or its file.
  const fromEnv = scope === 'admin' ? io.env.CONSTELLATION_API_TOKEN : undefined;
  if (fromEnv) return { token: fromEnv, hint: 'the token in $CONSTELLATION_API_TOKEN was refused' };
  const file = apiTokenPath(resolve(daemon.config.node.dataDir), scope);
  const key = scope === 'admin' ? 'api.token' : 'api.readOnlyToken';
  const looked = scope === 'admin' ? `looked at --token, $CONSTELLATION_API_TOKEN, api.token in ${daemon.label}, and ${file}` : `looked at --token, api.readOnlyToken in ${daemon.label}, and ${file}`;
  if (target.origin !== new URL(configUrl).origin && !isLoopbackHost(target.hostname)) {
    return { hint: `no token sent: ${target.host} is not the daemon of ${daemon.label} nor this machine, so its token is not sent there; pass --token or $CONSTELLATION_API_TOKEN` };
  }
  const configured = scope === 'admin' ? daemon.config.api.token : daemon.config.api.readOnlyToken;
  if (configured) return { token: configured, hint: `the token from ${key} in ${daemon.label} was refused; ${refuseHint}` };
  const read = readApiTokenFile(file);
  if (read.ok) {
    return { token: read.token, hint: `the token from ${file} (node.dataDir of ${daemon.label}) was refused: is that the daemon's data dir? ${refuseHint}` };
  }
  if (read.reason === 'missing') return { hint: `no API token found: ${looked} (does not exist); ${refuseHint}` };
  return { hint: `no API token found: ${looked}; ${read.error.message} [${read.error.code}]` };
}

/** Precedence: flags, then CONSTELLATION_API_URL / CONSTELLATION_API_TOKEN, then the config, then the defaults. */
export function apiClientFor(options: ClientOptions, io: CliIo, scope: ApiTokenScope = 'admin'): ApiClient {
  const { baseUrl, token, hint } = resolveClient(options, io, scope);
  return new ApiClient({ baseUrl, ...(token ? { token } : {}), unauthorizedHint: hint });
}

/**
 * The token the CLI would send, for `constellation token`: printed rather than sent, so a viewer's
 * browser or another machine can be given it. Fails with where it looked when there is none.
 */
export function localToken(options: ClientOptions, io: CliIo, scope: ApiTokenScope): string {
  const { token, hint } = resolveClient(options, io, scope);
  if (!token) throw new CliError(ExitCode.invalid, hint);
  return token;
}

function resolveClient(options: ClientOptions, io: CliIo, scope: ApiTokenScope): TokenChoice & { baseUrl: string } {
  const daemon = daemonConfig(options, io);
  const configUrl = `http://${reachableHost(daemon.config.api.host)}:${daemon.config.api.port}`;
  const baseUrl = options.api ?? io.env.CONSTELLATION_API_URL ?? configUrl;
  let target: URL;
  try {
    target = new URL(baseUrl);
  } catch {
    throw new CliError(ExitCode.invalid, `the API URL ${JSON.stringify(baseUrl)} is not a URL (--api or $CONSTELLATION_API_URL), e.g. ${defaultApiUrl}`);
  }
  return { baseUrl, ...chooseToken(options, io, daemon, target, configUrl, scope) };
}
