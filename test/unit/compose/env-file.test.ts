import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
      expect(result.errors[0]!.message).toMatch(/bad\.env:2: /);
    }
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
