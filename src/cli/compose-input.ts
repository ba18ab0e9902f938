import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseDotenv } from '../compose/dotenv.ts';
import { resolveStackName } from '../compose/stack-name.ts';
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

/**
 * The stack name: --stack, else the file's top-level `name:`, else its directory's name — resolved
 * by the rule the loader and the API share (src/compose/stack-name.ts), so --dry-run and a real
 * deploy agree on the name, and a bad one is refused here, before the daemon is contacted.
 */
function stackNameFor(content: string, path: string, explicit: string | undefined): string {
  let nameInFile: unknown;
  try {
    nameInFile = (parse(content) as { name?: unknown } | null)?.name;
  } catch {
    // The loader reports the syntax error with its line; here we only look for a name.
  }
  const resolved = resolveStackName({
    ...(explicit === undefined ? {} : { stackName: explicit }),
    nameInFile,
    file: path,
  });
  if (resolved.ok) return resolved.name;
  const source = explicit !== undefined ? '--stack' : resolved.fromFile ? `"name:" in ${path}` : `the directory of ${path}`;
  throw new CliError(ExitCode.invalid, `${resolved.message} (from ${source})`);
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
