/**
 * `command:` / `entrypoint:`: a string is split into words like Compose does (shell-words rules,
 * no shell involved); a list is taken as is; null means "use the image's default".
 */
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';
import { splitShellWords } from './shell-words.ts';

export function normalizeCommand(raw: unknown, key: 'command' | 'entrypoint', ctx: NormalizeContext): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (Array.isArray(raw)) return raw.map(String);
  const split = splitShellWords(String(raw));
  if (!split.ok) {
    ctx.sink.error([...ctx.servicePath, key], composeCodes.invalidCommand, split.message);
    return undefined;
  }
  return split.words;
}
