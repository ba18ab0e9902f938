import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { link, open, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The file in the data directory that holds the API token the daemon generated. */
export const apiTokenFileName = 'api-token';

/** The file that holds the read-only token for viewers (web view, inspector, events, reads). */
export const readOnlyApiTokenFileName = 'api-token.read-only';

export type ApiTokenScope = 'admin' | 'read-only';

export function apiTokenPath(dataDir: string, scope: ApiTokenScope = 'admin'): string {
  return join(dataDir, scope === 'admin' ? apiTokenFileName : readOnlyApiTokenFileName);
}

export type ApiTokenFileErrorCode = 'api_token_unreadable' | 'api_token_insecure' | 'api_token_invalid' | 'api_token_write_failed';

export class ApiTokenFileError extends Error {
  constructor(readonly code: ApiTokenFileErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ApiTokenFileError';
  }
}

/** A bearer token is one word of visible ASCII: anything else is a damaged or hand-mangled file. */
const tokenShape = /^[\x21-\x7e]+$/;

export type ReadApiTokenResult =
  | { readonly ok: true; readonly token: string }
  | { readonly ok: false; readonly reason: 'missing' }
  | { readonly ok: false; readonly reason: 'error'; readonly error: ApiTokenFileError };

/**
 * Reads a token file. A missing file is an answer (`missing`), not an error: the daemon then
 * creates one, the CLI says where it looked. A file other users may read is refused — whoever
 * could read it may have copied the key to the node. Synchronous: it is a few bytes, read once
 * when the daemon starts or a CLI command builds its client.
 */
export function readApiTokenFile(file: string): ReadApiTokenResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: 'missing' };
    const hint = code === 'EACCES' || code === 'EPERM' ? ': run as the daemon\'s user (the file is 0600), or pass the token with --token or $CONSTELLATION_API_TOKEN' : '';
    return { ok: false, reason: 'error', error: new ApiTokenFileError('api_token_unreadable', `cannot read the API token file ${file} (${code ?? (error as Error).message})${hint}`, { cause: error }) };
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    return { ok: false, reason: 'error', error: new ApiTokenFileError('api_token_insecure',
      `the API token file ${file} is readable by other users (mode 0${mode.toString(8)}): run "chmod 600 ${file}", or delete it and the daemon generates a new token`) };
  }
  const token = text.trim();
  if (!tokenShape.test(token)) {
    return { ok: false, reason: 'error', error: new ApiTokenFileError('api_token_invalid',
      `the API token file ${file} does not hold a token (one word of printable ASCII): delete it and the daemon generates a new one`) };
  }
  return { ok: true, token };
}

/** 256 bits from the OS CSPRNG, URL-safe so it pastes into a header or a shell unquoted. */
export function generateApiToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The daemon's token when the config sets none: the one in `<dataDir>/api-token` (the read-only
 * one in `<dataDir>/api-token.read-only`), created on the first start. The new file is written 0600 under a unique temporary name, fsynced, and linked
 * into place — link fails if the name exists, so two daemons starting on one data directory end
 * up with the same token instead of overwriting each other's.
 */
export async function ensureApiTokenFile(dataDir: string, scope: ApiTokenScope = 'admin'): Promise<{ token: string; file: string; created: boolean }> {
  const file = apiTokenPath(dataDir, scope);
  const existing = readApiTokenFile(file);
  if (existing.ok) return { token: existing.token, file, created: false };
  if (existing.reason === 'error') throw existing.error;
  const token = generateApiToken();
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(`${token}\n`, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tmp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Another daemon won the race: use its token.
      const theirs = readApiTokenFile(file);
      if (theirs.ok) return { token: theirs.token, file, created: false };
      if (theirs.reason === 'error') throw theirs.error;
      throw error;
    }
    // One directory fsync makes both the new name and the removed temporary durable.
    await rm(tmp, { force: true });
    const dir = await open(dataDir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (error) {
    if (error instanceof ApiTokenFileError) throw error;
    throw new ApiTokenFileError('api_token_write_failed', `cannot create the API token file ${file}: ${(error as Error).message}`, { cause: error });
  } finally {
    await rm(tmp, { force: true });
  }
  return { token, file, created: true };
}
