import { describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { formatDiagnostic, loadCompose } from '../../../src/compose/load-compose.ts';
import { loadErrors } from './load-helper.ts';

const file = 'app/compose.yaml';

describe('bad files get precise messages', () => {
  it('malformed YAML reports the line', () => {
    const errors = loadErrors('services:\n  web:\n    image: nginx\n    ports: [80:80\n  db:\n    image: postgres\n', { file });
    expect(errors[0]).toMatchObject({ severity: 'error', code: composeCodes.yamlSyntax, file });
    expect(errors[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it('bad indentation reports the line', () => {
    const errors = loadErrors('services:\n  web:\n    image: nginx\n   ports: ["80"]\n', { file });
    expect(errors[0]).toMatchObject({ code: composeCodes.yamlSyntax, line: 4 });
  });

  it('a duplicate key is a syntax error at its line', () => {
    const errors = loadErrors('services:\n  web:\n    image: nginx\n    image: httpd\n', { file });
    expect(errors[0]).toMatchObject({ code: composeCodes.yamlSyntax, line: 4 });
  });

  it('an unknown key is reported with its full path, line and service', () => {
    const errors = loadErrors('services:\n  web:\n    image: nginx\n    prots:\n      - "80:80"\n', { file });
    expect(errors).toEqual([{
      severity: 'error', code: composeCodes.unknownKey, message: 'unknown key "prots"', file, line: 4, path: 'services.web.prots', service: 'web',
    }]);
    expect(formatDiagnostic(errors[0]!)).toBe('app/compose.yaml:4 services.web.prots (web): unknown key "prots" [COMPOSE_UNKNOWN_KEY]');
  });

  it('unknown keys deep inside deploy and at the top level are reported, x- extensions are allowed', () => {
    const errors = loadErrors('x-common: &common\n  anything: goes\nservices:\n  web:\n    image: nginx\n    x-note: fine\n    deploy:\n      resources:\n        limits:\n          memroy: 1g\nvolumnes: {}\n', { file });
    expect(errors.map((e) => [e.path, e.line])).toEqual(expect.arrayContaining([
      ['services.web.deploy.resources.limits.memroy', 10],
      ['volumnes', 11],
    ]));
    expect(errors).toHaveLength(2);
  });

  it('a wrong type is reported with its path and what was expected', () => {
    const errors = loadErrors('services:\n  web:\n    image: nginx\n    ports: "80:80"\n', { file });
    expect(errors).toEqual([expect.objectContaining({ code: composeCodes.wrongType, path: 'services.web.ports', line: 4, service: 'web' })]);
    expect(errors[0]!.message).toBe('must be an array, got the string "80:80"');
  });

  it('a wrong type inside a oneOf names the alternatives once', () => {
    const errors = loadErrors('services:\n  web:\n    image: nginx\n    command: { run: this }\n', { file });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: composeCodes.wrongType, path: 'services.web.command', line: 4 });
    expect(errors[0]!.message).toBe('must be null, a string or an array, got a mapping');
  });

  it('a wrong type deep in a list item points at the item field', () => {
    const errors = loadErrors('services:\n  web:\n    image: nginx\n    ports:\n      - target: [80]\n', { file });
    expect(errors[0]).toMatchObject({ path: 'services.web.ports[0].target', line: 5 });
  });

  it('an enum violation lists the allowed values', () => {
    const errors = loadErrors('services:\n  web:\n    image: nginx\n    depends_on:\n      db: { condition: service_ready }\n  db: { image: x }\n', { file });
    expect(errors[0]).toMatchObject({ code: composeCodes.invalidValue, path: 'services.web.depends_on.db.condition', line: 5 });
    expect(errors[0]!.message).toContain('"service_healthy"');
  });

  it('a bad service name is reported', () => {
    const errors = loadErrors('services:\n  "web app":\n    image: nginx\n', { file });
    expect(errors[0]).toMatchObject({ path: 'services["web app"]', line: 2 });
  });

  it('an unset required variable is reported with file, line, key and service', () => {
    const errors = loadErrors('services:\n  web:\n    image: "nginx:${TAG:?TAG must be set}"\n', { file });
    expect(formatDiagnostic(errors[0]!)).toBe('app/compose.yaml:3 services.web.image (web): required variable TAG is not set: TAG must be set [COMPOSE_REQUIRED_VARIABLE]');
  });

  it.each([
    ['', composeCodes.notAMapping],
    ['- a\n- b\n', composeCodes.notAMapping],
    ['just a string', composeCodes.notAMapping],
    ['services: {}\n', composeCodes.noServices],
    ['name: x\n', composeCodes.noServices],
  ])('%j is refused', (content, code) => {
    expect(loadErrors(content, { file })[0]!.code).toBe(code);
  });

  it('an alias bomb is refused instead of exhausting memory', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 0; i < 8; i += 1) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`);
    lines.push('services: { web: { image: x } }');
    expect(loadErrors(lines.join('\n'), { file })[0]!.code).toBe(composeCodes.yamlSyntax);
  });

  it('never throws, whatever the input', () => {
    for (const content of ['{', ']', '\t\tservices:', 'services: [1,2]', 'services:\n  web: 5', 'services:\n  web:\n    image: 5\n', '!!binary x', '? complex\n: key', '&a [*a]']) {
      const result = loadCompose({ content, stackName: 's' });
      expect(result.ok).toBe(false);
      if (!result.ok) for (const error of result.errors) expect(error.code).toMatch(/^COMPOSE_/);
    }
  });
});

describe('formatDiagnostic', () => {
  it('prints file:line path (service): message [code], and marks warnings', () => {
    expect(formatDiagnostic({ severity: 'warning', code: 'C', message: 'm', file: 'f.yml', line: 3, path: 'services.a.b', service: 'a' })).toBe('f.yml:3 services.a.b (a): warning: m [C]');
    expect(formatDiagnostic({ severity: 'error', code: 'C', message: 'm' })).toBe('<input>: m [C]');
  });
});
