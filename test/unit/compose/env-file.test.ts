import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { loadCompose, type LoadComposeResult } from '../../../src/compose/load-compose.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function loadProject(files: Record<string, string>, env: Record<string, string> = {}): { result: LoadComposeResult; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'constellation-envfile-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const file = join(dir, 'compose.yaml');
  return { result: loadCompose({ content: readFileSync(file, 'utf8'), file, env, stackName: 'app' }), dir };
}

describe('env_file', () => {
  it('reads a single file relative to the compose file; environment: wins over it', () => {
    const { result } = loadProject({
      'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: conf/web.env\n    environment:\n      B: from-environment\n',
      'conf/web.env': 'A=1\nB=from-file\nC="quoted value"\n',
    });
    if (!result.ok) expect.fail(JSON.stringify(result.errors));
    expect(result.stack.services[0]!.environment).toEqual({ A: '1', B: 'from-environment', C: 'quoted value' });
  });

  it('reads a list in order, later files winning, and interpolates with the given env', () => {
    const { result } = loadProject({
      'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: [a.env, b.env]\n',
      'a.env': 'X=a\nY=a\n',
      'b.env': 'Y=b\nZ=${HOST_NAME}\n',
    }, { HOST_NAME: 'box' });
    if (!result.ok) expect.fail(JSON.stringify(result.errors));
    expect(result.stack.services[0]!.environment).toEqual({ X: 'a', Y: 'b', Z: 'box' });
  });

  it('a missing required file is an error naming the file, at the entry', () => {
    const { result, dir } = loadProject({ 'compose.yaml': 'services:\n  web:\n    image: x\n    env_file:\n      - present.env\n      - missing.env\n', 'present.env': 'A=1\n' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([expect.objectContaining({ code: composeCodes.envFileMissing, path: 'services.web.env_file[1]', line: 6, service: 'web' })]);
    expect(result.errors[0]!.message).toContain(join(dir, 'missing.env'));
  });

  it('a missing optional file (long form, required: false) is skipped', () => {
    const { result } = loadProject({ 'compose.yaml': 'services:\n  web:\n    image: x\n    env_file:\n      - path: ./optional.env\n        required: false\n      - path: ./real.env\n', 'real.env': 'R=1\n' });
    if (!result.ok) expect.fail(JSON.stringify(result.errors));
    expect(result.stack.services[0]!.environment).toEqual({ R: '1' });
  });

  it('a malformed env_file line is reported with the env file and its line', () => {
    const { result } = loadProject({ 'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: bad.env\n', 'bad.env': 'GOOD=1\nBAD LINE\n' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]).toMatchObject({ code: composeCodes.dotenvInvalid, path: 'services.web.env_file', line: 4 });
      expect(result.errors[0]!.message).toMatch(/bad\.env:2: not a KEY=VALUE assignment$/);
    }
  });

  it('errors about an env file say which line and what is wrong, never what the line says', () => {
    const { result } = loadProject({
      'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: secret.env\n',
      'secret.env': [
        'db password is hunter2',
        'my hunter2 key=1',
        'A="hunter2 never closed',
        'B=hunter2$',
        'C=${UNSET_VAR:?hunter2}',
      ].join('\n'),
    });
    if (result.ok) return expect.fail('expected the env file to be refused');
    expect(result.errors.map((e) => e.message.replace(/^.*secret\.env:/, ''))).toEqual([
      '1: not a KEY=VALUE assignment',
      '2: the variable name before "=" is not valid (letters, digits, "_", "." and "-", not starting with a digit)',
      '3: a quoted value has no closing quote',
      // The unclosed quote on line 3 swallows the rest of the file, as Compose reads it.
    ]);
    const other = loadProject({ 'compose.yaml': 'services:\n  web:\n    image: x\n    env_file: s.env\n', 's.env': 'B=hunter2$\nC=${UNSET_VAR:?hunter2}\n' }).result;
    if (other.ok) return expect.fail('expected the env file to be refused');
    expect(other.errors.map((e) => e.message.replace(/^.*s\.env:/, ''))).toEqual([
      '1: the value has a "$" that starts no valid ${...} reference (write "$$" for a literal "$")',
      '2: the value requires a variable (${VAR:?...} or ${VAR?...}) that is unset or empty',
    ]);
    expect(JSON.stringify([...result.errors, ...other.errors])).not.toContain('hunter2');
  });
});

describe('env_file is read only from inside the working directory', () => {
  /** A file outside the project that a deploy must not be able to read. */
  function secretElsewhere(): string {
    const dir = mkdtempSync(join(tmpdir(), 'constellation-secret-'));
    dirs.push(dir);
    const file = join(dir, 'secret.txt');
    writeFileSync(file, 'db password is hunter2\nTOKEN=hunter2\n');
    return file;
  }

  function refusal(result: LoadComposeResult) {
    if (result.ok) return expect.fail(`expected a refusal, got ${JSON.stringify(result.stack.services[0]!.environment)}`);
    expect(JSON.stringify(result)).not.toContain('hunter2');
    return result.errors;
  }

  it.each([
    ['an absolute path', (secret: string) => secret, 'is an absolute path'],
    ['a path under ~', () => '~/secret.txt', 'starts with "~"'],
    ['a relative path that climbs out with ..', (secret: string) => `../${secret.split('/').slice(-2).join('/')}`, 'resolves outside the working directory'],
  ])('%s is refused, naming service, key and line, and the file is not read', (_name, entry, why) => {
    const secret = secretElsewhere();
    const { result } = loadProject({ 'compose.yaml': `services:\n  web:\n    image: x\n    env_file:\n      - ok.env\n      - ${entry(secret)}\n`, 'ok.env': 'A=1\n' });
    const errors = refusal(result);
    expect(errors).toEqual([expect.objectContaining({ code: composeCodes.envFileOutsideWorkingDir, service: 'web', path: 'services.web.env_file[1]', line: 6 })]);
    expect(errors[0]!.message).toContain(why);
  });

  it('"~" is refused even when the home directory holds the file', () => {
    const secret = secretElsewhere();
    const dir = mkdtempSync(join(tmpdir(), 'constellation-envfile-'));
    dirs.push(dir);
    const result = loadCompose({ content: 'services:\n  web:\n    image: x\n    env_file: ~/secret.txt\n', workingDir: dir, homeDir: dirname(secret), stackName: 'app' });
    expect(refusal(result)[0]!.code).toBe(composeCodes.envFileOutsideWorkingDir);
  });

  it('a symlink inside the working directory that points outside it is refused; one that stays inside is followed', () => {
    const secret = secretElsewhere();
    const { dir } = loadProject({ 'compose.yaml': '', 'conf/real.env': 'R=1\n' });
    symlinkSync(secret, join(dir, 'leak.env'));
    symlinkSync(join(dir, 'conf'), join(dir, 'linked-conf'));
    const leak = loadCompose({ content: 'services:\n  web:\n    image: x\n    env_file: leak.env\n', file: join(dir, 'compose.yaml'), stackName: 'app' });
    expect(refusal(leak)).toEqual([expect.objectContaining({ code: composeCodes.envFileOutsideWorkingDir, path: 'services.web.env_file', line: 4 })]);
    const inside = loadCompose({ content: 'services:\n  web:\n    image: x\n    env_file: linked-conf/real.env\n', file: join(dir, 'compose.yaml'), stackName: 'app' });
    expect(inside.ok && inside.stack.services[0]!.environment).toEqual({ R: '1' });
  });

  it('a .env that links outside the working directory is refused and not read', () => {
    const secret = secretElsewhere();
    const { dir } = loadProject({ 'compose.yaml': '' });
    symlinkSync(secret, join(dir, '.env'));
    const result = loadCompose({ content: 'services:\n  web:\n    image: "x:${TOKEN}"\n', workingDir: dir, stackName: 'app' });
    expect(refusal(result)).toEqual([expect.objectContaining({ code: composeCodes.envFileOutsideWorkingDir })]);
  });

  it('without a working directory (a raw API deploy) an absolute env_file is refused too', () => {
    const result = loadCompose({ content: `services:\n  web:\n    image: x\n    env_file: ${secretElsewhere()}\n`, stackName: 'app' });
    expect(refusal(result)).toEqual([expect.objectContaining({ code: composeCodes.envFileOutsideWorkingDir, service: 'web', line: 4 })]);
  });

  it('device files are refused instead of hanging or exhausting the loader', () => {
    const result = loadCompose({ content: 'services:\n  web:\n    image: x\n    env_file: zero\n', workingDir: '/dev', stackName: 'app' });
    expect(refusal(result)).toEqual([expect.objectContaining({ code: composeCodes.envFileMissing, path: 'services.web.env_file' })]);
  });

  it('pseudo-files that report size 0 read as empty: the loader\'s own environment does not leak', () => {
    expect(readFileSync('/proc/self/environ').length).toBeGreaterThan(0);
    const result = loadCompose({ content: 'services:\n  web:\n    image: x\n    env_file: environ\n', workingDir: '/proc/self', stackName: 'app' });
    if (!result.ok) expect.fail(JSON.stringify(result.errors));
    expect(result.stack.services[0]!.environment).toEqual({});
  });
});

describe('YAML anchors and merge keys', () => {
  it('x- anchors merged into services load, and diagnostics still find a line', () => {
    const { result } = loadProject({
      'compose.yaml': [
        'x-defaults: &defaults',
        '  image: nginx:1',
        '  restart: always',
        '  ports: ["70000:80"]',
        'services:',
        '  web:',
        '    <<: *defaults',
        '  api:',
        '    <<: *defaults',
        '    ports: ["8080:80"]',
        '',
      ].join('\n'),
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    // web inherits the bad port through the merge: reported at web (the nearest line that exists).
    expect(result.errors).toEqual([expect.objectContaining({ code: composeCodes.invalidPort, service: 'web', path: 'services.web.ports[0]', line: 6 })]);
  });

  it('merged values are used', () => {
    const { result } = loadProject({ 'compose.yaml': 'x-d: &d\n  image: nginx:1\n  restart: always\nservices:\n  web:\n    <<: *d\n    restart: "no"\n' });
    if (!result.ok) expect.fail(JSON.stringify(result.errors));
    expect(result.stack.services[0]).toMatchObject({ image: 'nginx:1', restart: 'no' });
  });
});
