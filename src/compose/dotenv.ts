/**
 * The `.env` / `env_file` format as Compose reads it: `KEY=VALUE` lines, optional `export `,
 * `#` comments, single quotes (literal), double quotes (escapes \n \t \\ \" and interpolation),
 * unquoted values (trimmed, ` #` starts a comment, interpolation). Quoted values may span lines.
 * Values may refer to variables defined earlier in the same file or to the given lookup.
 *
 * Issue messages never quote the file's text, only its line number and what is wrong: the file
 * may be a secret (or not an env file at all), and the daemon returns these messages over its API.
 */
import { defineEntry } from './define-entry.ts';
import { interpolateString, type VariableLookup } from './interpolate.ts';

export interface DotenvIssue {
  readonly line: number;
  readonly message: string;
}

export interface DotenvResult {
  readonly values: Readonly<Record<string, string>>;
  readonly errors: readonly DotenvIssue[];
}

const keyPattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** What can be wrong with a line, said without any of its text. */
const issueMessages = {
  notAnAssignment: 'not a KEY=VALUE assignment',
  invalidName: 'the variable name before "=" is not valid (letters, digits, "_", "." and "-", not starting with a digit)',
  unclosedQuote: 'a quoted value has no closing quote',
  badReference: 'the value has a "$" that starts no valid ${...} reference (write "$$" for a literal "$")',
  requiredUnset: 'the value requires a variable (${VAR:?...} or ${VAR?...}) that is unset or empty',
} as const;

export function parseDotenv(content: string, lookup: VariableLookup = () => undefined): DotenvResult {
  const values: Record<string, string> = {};
  const errors: DotenvIssue[] = [];
  const lines = content.replace(/\r\n?/g, '\n').split('\n');
  // Compose resolves a variable from the given environment first, then from this file.
  const resolve: VariableLookup = (name) => lookup(name) ?? (Object.hasOwn(values, name) ? values[name] : undefined);
  for (let index = 0; index < lines.length; index += 1) {
    const lineNumber = index + 1;
    let line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('export ')) line = line.slice('export '.length).trimStart();
    const equals = line.indexOf('=');
    const key = (equals === -1 ? line : line.slice(0, equals)).trim();
    if (!keyPattern.test(key)) {
      errors.push({ line: lineNumber, message: equals === -1 ? issueMessages.notAnAssignment : issueMessages.invalidName });
      continue;
    }
    // A bare KEY carries no value: Compose ignores it in env files.
    if (equals === -1) continue;
    let raw = line.slice(equals + 1).trimStart();
    const quote = raw[0];
    if (quote === '"' || quote === "'") {
      // Gather continuation lines until the closing quote.
      let closing = findClosingQuote(raw, quote);
      while (closing === -1 && index + 1 < lines.length) {
        index += 1;
        raw += `\n${lines[index]!}`;
        closing = findClosingQuote(raw, quote);
      }
      if (closing === -1) {
        errors.push({ line: lineNumber, message: issueMessages.unclosedQuote });
        continue;
      }
      const inner = raw.slice(1, closing);
      defineEntry(values, key, quote === "'" ? inner : interpolated(unescapeDoubleQuoted(inner), resolve, lineNumber, errors));
    } else {
      const comment = raw.search(/\s#/);
      const text = (comment === -1 ? raw : raw.slice(0, comment)).trim();
      defineEntry(values, key, interpolated(text, resolve, lineNumber, errors));
    }
  }
  return { values, errors };
}

function findClosingQuote(text: string, quote: string): number {
  for (let i = 1; i < text.length; i += 1) {
    if (quote === '"' && text[i] === '\\') {
      i += 1;
    } else if (text[i] === quote) {
      return i;
    }
  }
  return -1;
}

function unescapeDoubleQuoted(text: string): string {
  return text.replace(/\\(.)/gs, (_match, ch: string) => {
    switch (ch) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case '$': return '$$'; // keep it literal through interpolation
      default: return ch;
    }
  });
}

function interpolated(text: string, lookup: VariableLookup, line: number, errors: DotenvIssue[]): string {
  const result = interpolateString(text, lookup);
  // The interpolation messages quote the value; report only the kind of problem.
  for (const issue of result.errors) errors.push({ line, message: issue.kind === 'required' ? issueMessages.requiredUnset : issueMessages.badReference });
  return result.value;
}
