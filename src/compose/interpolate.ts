/**
 * Compose variable interpolation, with the operators of the compose specification:
 *   $VAR  ${VAR}            value, or "" (with a warning) when unset
 *   ${VAR:-default}         default when unset or empty;  ${VAR-default}  only when unset
 *   ${VAR:?message}         error when unset or empty;    ${VAR?message}  only when unset
 *   ${VAR:+replacement}     replacement when set and non-empty; ${VAR+replacement} when set
 *   $$                      a literal "$"
 * Defaults, messages and replacements may themselves contain interpolations and are expanded
 * only when used, as Compose does. A "$" followed by anything else is an error (Compose refuses
 * it too), which catches unescaped dollars in passwords before they are silently mangled.
 */
export type VariableLookup = (name: string) => string | undefined;

export interface InterpolationIssue {
  readonly kind: 'required' | 'syntax';
  readonly variable?: string;
  readonly message: string;
}

export interface InterpolationResult {
  readonly value: string;
  readonly errors: readonly InterpolationIssue[];
  /** Variables referenced without a default that were unset (they became ""). */
  readonly unset: readonly string[];
}

const nameStart = /[A-Za-z_]/;
const nameChar = /[A-Za-z0-9_]/;

export function interpolateString(text: string, lookup: VariableLookup): InterpolationResult {
  const errors: InterpolationIssue[] = [];
  const unset: string[] = [];
  const value = expand(text, lookup, errors, unset);
  return { value, errors, unset };
}

function expand(text: string, lookup: VariableLookup, errors: InterpolationIssue[], unset: string[]): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch !== '$') {
      out += ch;
      i += 1;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = matchingBrace(text, i + 2);
      if (end === -1) {
        errors.push({ kind: 'syntax', message: `invalid interpolation in ${JSON.stringify(text)}: "\${" without a closing "}"` });
        return out + text.slice(i);
      }
      out += expandBraced(text.slice(i + 2, end), text, lookup, errors, unset);
      i = end + 1;
    } else if (next !== undefined && nameStart.test(next)) {
      let j = i + 1;
      while (j < text.length && nameChar.test(text[j]!)) j += 1;
      const name = text.slice(i + 1, j);
      const found = lookup(name);
      if (found === undefined) unset.push(name);
      out += found ?? '';
      i = j;
    } else {
      errors.push({ kind: 'syntax', message: `invalid interpolation in ${JSON.stringify(text)}: "$" must be followed by a variable name, "{" or "$" (write "$$" for a literal "$")` });
      out += '$';
      i += 1;
    }
  }
  return out;
}

/** Index of the "}" closing a "${" whose body starts at `from`, honouring nested "${...}". */
function matchingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i += 1) {
    if (text[i] === '$' && text[i + 1] === '$') {
      i += 1;
    } else if (text[i] === '$' && text[i + 1] === '{') {
      depth += 1;
      i += 1;
    } else if (text[i] === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function expandBraced(body: string, whole: string, lookup: VariableLookup, errors: InterpolationIssue[], unset: string[]): string {
  let j = 0;
  if (j < body.length && nameStart.test(body[j]!)) {
    while (j < body.length && nameChar.test(body[j]!)) j += 1;
  }
  const name = body.slice(0, j);
  if (name === '') {
    errors.push({ kind: 'syntax', message: `invalid interpolation in ${JSON.stringify(whole)}: "\${${body}}" does not start with a variable name` });
    return '';
  }
  const rest = body.slice(j);
  const found = lookup(name);
  const isSet = found !== undefined;
  const isNonEmpty = isSet && found !== '';
  if (rest === '') {
    if (!isSet) unset.push(name);
    return found ?? '';
  }
  const operator = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
  if (operator === undefined) {
    errors.push({ kind: 'syntax', message: `invalid interpolation in ${JSON.stringify(whole)}: unknown operator after "${name}" in "\${${body}}"` });
    return '';
  }
  const argument = rest.slice(operator.length);
  const argumentValue = (): string => expand(argument, lookup, errors, unset);
  switch (operator) {
    case ':-':
      return isNonEmpty ? found : argumentValue();
    case '-':
      return isSet ? found : argumentValue();
    case ':?':
    case '?': {
      const ok = operator === ':?' ? isNonEmpty : isSet;
      if (ok) return found!;
      const detail = argumentValue();
      errors.push({
        kind: 'required',
        variable: name,
        message: `required variable ${name} is ${isSet ? 'empty' : 'not set'}${detail === '' ? '' : `: ${detail}`}`,
      });
      return '';
    }
    case ':+':
      return isNonEmpty ? argumentValue() : '';
    default:
      return isSet ? argumentValue() : '';
  }
}
