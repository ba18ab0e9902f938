import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { interpolateString } from '../../../src/compose/interpolate.ts';
import { parseDotenv } from '../../../src/compose/dotenv.ts';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { DiagnosticSink } from '../../../src/compose/diagnostics.ts';
import { interpolateDocument } from '../../../src/compose/interpolate-document.ts';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { loadErrors, loadOk } from './load-helper.ts';

const vars: Record<string, string> = { SET: 'value', EMPTY: '', OTHER: 'other' };
const lookup = (name: string): string | undefined => vars[name];
const expand = (text: string): string => {
  const result = interpolateString(text, lookup);
  expect(result.errors).toEqual([]);
  return result.value;
};

describe('interpolation operators', () => {
  it.each([
    ['${SET}', 'value'], ['$SET', 'value'], ['pre-${SET}-post', 'pre-value-post'], ['$SET/path', 'value/path'],
    ['${UNSET}', ''], ['$UNSET', ''],
    ['${SET:-d}', 'value'], ['${EMPTY:-d}', 'd'], ['${UNSET:-d}', 'd'],
    ['${SET-d}', 'value'], ['${EMPTY-d}', ''], ['${UNSET-d}', 'd'],
    ['${SET:+alt}', 'alt'], ['${EMPTY:+alt}', ''], ['${UNSET:+alt}', ''],
    ['${SET+alt}', 'alt'], ['${EMPTY+alt}', 'alt'], ['${UNSET+alt}', ''],
    ['${SET:?must be set}', 'value'], ['${EMPTY?must be set}', ''],
    ['$$', '$'], ['$${SET}', '${SET}'], ['$$SET', '$SET'], ['cost: $$5', 'cost: $5'],
    ['${UNSET:-${OTHER}}', 'other'], ['${UNSET:-a ${UNSET2:-b} c}', 'a b c'], ['${UNSET:-}', ''],
    ['${UNSET:-with:colon-and-dash}', 'with:colon-and-dash'],
    ['no dollars at all', 'no dollars at all'],
  ])('%s → %j', (input, output) => {
    expect(expand(input)).toBe(output);
  });

  it('reports unset variables without a default so a typo is visible', () => {
    expect(interpolateString('${UNSET} and $ALSO_UNSET and ${UNSET:-x}', lookup).unset).toEqual(['UNSET', 'ALSO_UNSET']);
  });

  it.each([
    ['${UNSET:?please set UNSET}', 'UNSET', 'required variable UNSET is not set: please set UNSET'],
    ['${EMPTY:?needs a value}', 'EMPTY', 'required variable EMPTY is empty: needs a value'],
    ['${UNSET?}', 'UNSET', 'required variable UNSET is not set'],
    ['${UNSET:?missing ${SET}}', 'UNSET', 'required variable UNSET is not set: missing value'],
  ])('%s is an error naming the variable', (input, variable, message) => {
    const result = interpolateString(input, lookup);
    expect(result.errors).toEqual([{ kind: 'required', variable, message }]);
  });

  it.each(['${', '${SET', '${}', '${1A}', '${SET:x}', 'price $5', 'ends with $', '${SET!}'])('%j is a syntax error', (input) => {
    const result = interpolateString(input, lookup);
    expect(result.errors.length).toBeGreaterThan(0);
    expect(result.errors[0]!.kind).toBe('syntax');
  });
});

describe('.env files', () => {
  it('parses quotes, comments, export and references to earlier values', () => {
    const parsed = parseDotenv([
      '# comment',
      'export A=1',
      'B = two words  # trailing comment',
      "C='literal ${A} $$'",
      'D="line\\nbreak ${A}"',
      'E=${A}-${B}',
      'F="multi',
      'line"',
      'G=',
      'BARE',
    ].join('\n'));
    expect(parsed.errors).toEqual([]);
    expect(parsed.values).toEqual({ A: '1', B: 'two words', C: 'literal ${A} $$', D: 'line\nbreak 1', E: '1-two words', F: 'multi\nline', G: '' });
  });

  it('reports bad lines with their line number', () => {
    const parsed = parseDotenv('OK=1\n1BAD=2\nQ="open\n');
    expect(parsed.errors.map((e) => e.line)).toEqual([2, 3]);
  });
});

describe('interpolation in compose files', () => {
  const dirs: string[] = [];
  const project = (files: Record<string, string>): string => {
    const dir = mkdtempSync(join(tmpdir(), 'constellation-compose-'));
    dirs.push(dir);
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return join(dir, 'compose.yaml');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('uses .env beside the file, and the given env wins over it', () => {
    const file = project({
      '.env': 'TAG=from-dotenv\nPORT=8080\n',
      'compose.yaml': 'services:\n  web:\n    image: "nginx:${TAG}"\n    ports: ["${PORT}:80"]\n    environment:\n      MODE: ${MODE:-dev}\n',
    });
    const withDotenvOnly = loadCompose({ content: readFileSync(file, 'utf8'), file, env: {} });
    expect(withDotenvOnly.ok && withDotenvOnly.stack.services[0]!.image).toBe('nginx:from-dotenv');
    const overridden = loadCompose({ content: readFileSync(file, 'utf8'), file, env: { TAG: 'from-env', MODE: 'prod' } });
    if (!overridden.ok) expect.fail(JSON.stringify(overridden.errors));
    const web = overridden.stack.services[0]!;
    expect(web.image).toBe('nginx:from-env');
    expect(web.ports).toEqual([{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }]);
    expect(web.environment).toEqual({ MODE: 'prod' });
  });

  it('reports a bad .env line with the .env file and line', () => {
    const file = project({ '.env': 'GOOD=1\nnot a variable line\n', 'compose.yaml': 'services:\n  web:\n    image: nginx\n' });
    const result = loadCompose({ content: readFileSync(file, 'utf8'), file, env: {} });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]!.message).toContain('.env:2');
  });

  it('an unset required variable is an error naming the variable, file, line, key and service', () => {
    const errors = loadErrors('services:\n  web:\n    image: nginx\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD:?set the database password}\n', { file: 'stack/compose.yaml' });
    expect(errors).toEqual([{
      severity: 'error',
      code: composeCodes.requiredVariable,
      message: 'required variable DB_PASSWORD is not set: set the database password',
      file: 'stack/compose.yaml',
      line: 5,
      path: 'services.web.environment.DB_PASSWORD',
      service: 'web',
    }]);
  });

  it('warns once per unset variable and keeps going', () => {
    const { stack, warnings } = loadOk('services:\n  web:\n    image: "nginx:${TAG}"\n    labels: ["a=${TAG}"]\n');
    expect(stack.services[0]!.image).toBe('nginx:');
    expect(warnings.filter((w) => w.code === composeCodes.unsetVariable)).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ line: 3, path: 'services.web.image', service: 'web' });
  });

  it('leaves $$ as a literal dollar in commands and does not interpolate keys', () => {
    const { stack } = loadOk('services:\n  web:\n    image: nginx\n    command: ["sh", "-c", "echo $$HOME"]\n    labels:\n      "${NOT_A_VAR}": x\n');
    expect(stack.services[0]!.command).toEqual(['sh', '-c', 'echo $HOME']);
    expect(stack.services[0]!.labels).toEqual({ '${NOT_A_VAR}': 'x' });
  });

  it('interpolated numbers are accepted where the schema allows strings', () => {
    const { stack } = loadOk('services:\n  web:\n    image: nginx\n    deploy:\n      replicas: ${REPLICAS}\n', { env: { REPLICAS: '3' } });
    expect(stack.services[0]!.deploy.replicas).toBe(3);
  });
});

describe('keys named after Object.prototype members', () => {
  // Assigning record["__proto__"] sets the prototype instead of storing an entry: the variable
  // was silently dropped on its way from the file to the container.
  it('interpolation keeps an environment entry "__proto__"', () => {
    const sink = new DiagnosticSink({ file: undefined, lineOf: () => undefined });
    const parsed: unknown = JSON.parse('{"environment":{"__proto__":"${SET}","constructor":"c"}}');
    const out = interpolateDocument(parsed, lookup, sink) as { environment: Record<string, string> };
    expect(Object.entries(out.environment)).toEqual([['__proto__', 'value'], ['constructor', 'c']]);
    expect(Object.getPrototypeOf(out.environment)).toBe(Object.prototype);
    expect(sink.errors).toEqual([]);
  });

  it('a service keeps environment and label entries "__proto__", in map and list form', () => {
    const fromMap = loadOk('services:\n  web:\n    image: nginx\n    environment:\n      __proto__: ${SET}\n      A: b\n    labels:\n      __proto__: l\n', { env: { SET: 'x' } }).stack.services[0]!;
    expect(Object.entries(fromMap.environment)).toEqual([['__proto__', 'x'], ['A', 'b']]);
    expect(Object.entries(fromMap.labels)).toEqual([['__proto__', 'l']]);
    const fromList = loadOk('services:\n  web:\n    image: nginx\n    environment:\n      - __proto__=y\n').stack.services[0]!;
    expect(Object.entries(fromList.environment)).toEqual([['__proto__', 'y']]);
    expect(JSON.parse(JSON.stringify(fromList.environment))).toEqual(fromList.environment);
  });

  it('a .env file keeps a variable "__proto__"', () => {
    expect(Object.entries(parseDotenv('__proto__=z\nconstructor=${__proto__}\n').values)).toEqual([['__proto__', 'z'], ['constructor', 'z']]);
  });
});
