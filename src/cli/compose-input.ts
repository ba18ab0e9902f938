import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseDotenv } from '../compose/dotenv.ts';
import { CliError } from './cli-error.ts';
import { ExitCode } from './exit-codes.ts';

export interface ComposeInput {
  readonly path: string;
  readonly content: string;
  readonly stack: string;
  /** What the daemon needs for interpolation: .env next to the file, overridden by the shell. */
  readonly env: Record<string, string>;
}

const referencePattern = /\$\{?([A-Za-z_][A-Za-z0-9_]*)/g;

/** Compose's rule for project names, minus `_` (our name separator). */
export function sanitizeStackName(raw: string): string {
  return raw.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
}

/** The stack name: --stack, else the file's top-level `name:`, else its directory's name (as compose does). */
function stackNameFor(content: string, path: string, explicit: string | undefined): string {
  if (explicit) return explicit;
  try {
    const document = parse(content) as { name?: unknown } | null;
    if (document && typeof document.name === 'string' && document.name) return document.name;
  } catch {
    // The daemon reports the syntax error with its line; here we only look for a name.
  }
  return sanitizeStackName(basename(dirname(path))) || 'default';
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Reads a compose file for sending to a daemon that may run elsewhere: it cannot see our .env
 * or our shell, so we send the variables the file can use — never the whole environment.
 */
export async function readComposeInput(file: string, explicitStack: string | undefined, shellEnv: NodeJS.ProcessEnv): Promise<ComposeInput> {
  const path = resolve(file);
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(ExitCode.invalid, `cannot read compose file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const env: Record<string, string> = {};
  const dotenvText = await readOptional(resolve(dirname(path), '.env'));
  if (dotenvText !== undefined) {
    const dotenv = parseDotenv(dotenvText, (name) => shellEnv[name]);
    const [firstIssue] = dotenv.errors;
    if (firstIssue) throw new CliError(ExitCode.invalid, `${resolve(dirname(path), '.env')}:${firstIssue.line}: ${firstIssue.message}`);
    Object.assign(env, dotenv.values);
  }
  for (const match of content.matchAll(referencePattern)) {
    const name = match[1]!;
    const value = shellEnv[name];
    if (value !== undefined) env[name] = value;
  }
  for (const name of Object.keys(env)) {
    const value = shellEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return { path, content, stack: stackNameFor(content, path, explicitStack), env };
}
