/**
 * Walks every compose file of the awesome-compose corpus (shared/corpus beside the repository,
 * as CI lays it out): each one loads, or is refused with precise diagnostics. The corpus must be
 * present: a missing corpus fails the test rather than skipping it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { formatDiagnostic, loadCompose } from '../../../src/compose/load-compose.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const corpusDir = resolve(repoRoot, '../shared/corpus/awesome-compose');
const composeFileNames = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];

function corpusFiles(): string[] {
  if (!existsSync(corpusDir)) {
    throw new Error(`the compose corpus is missing at ${corpusDir}; it must sit beside the repository at ../shared/corpus/awesome-compose`);
  }
  return readdirSync(corpusDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => composeFileNames.map((name) => join(corpusDir, entry.name, name)))
    .filter((path) => existsSync(path))
    .sort();
}

type RawService = { image?: unknown; build?: unknown; depends_on?: unknown };

function rawServices(path: string): Record<string, RawService> {
  return (parse(readFileSync(path, 'utf8')) as { services: Record<string, RawService> }).services;
}

/** Every ${VAR} the file mentions, set to a plausible absolute path so binds and env both work. */
function variablesOf(path: string): Record<string, string> {
  const names = [...readFileSync(path, 'utf8').matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
  return Object.fromEntries(names.map((name) => [name, `/srv/${name.toLowerCase()}`]));
}

describe('awesome-compose corpus', () => {
  const files = corpusFiles();

  it('has exactly 39 compose files', () => {
    expect(files).toHaveLength(39);
  });

  it.each(files.map((path) => [path.slice(corpusDir.length + 1), path]))('%s loads or is refused precisely', (_name, path) => {
    const result = loadCompose({ content: readFileSync(path, 'utf8'), file: path, env: {} });
    const services = rawServices(path);
    const buildOnly = Object.entries(services).filter(([, s]) => s.build !== undefined && s.image === undefined).map(([name]) => name);
    const diagnostics = result.ok ? result.warnings : [...result.errors, ...result.warnings];
    for (const d of diagnostics) {
      expect(d.code, formatDiagnostic(d)).toMatch(/^COMPOSE_[A-Z_]+$/);
      expect(d.file).toBe(path);
      expect(d.line, formatDiagnostic(d)).toBeGreaterThanOrEqual(1);
      expect(d.path, formatDiagnostic(d)).toBeTruthy();
    }
    if (buildOnly.length > 0) {
      // A cluster cannot build: each such service is refused by name, at its build key.
      expect(result.ok).toBe(false);
      const refused = result.ok ? [] : result.errors.filter((e) => e.code === composeCodes.buildWithoutImage);
      expect(refused.map((e) => e.service).sort()).toEqual([...buildOnly].sort());
      for (const error of refused) expect(error.path).toBe(`services.${error.service}.build`);
    } else {
      // Every other file loads once its variables are set, with every service, in dependency order.
      const loaded = loadCompose({ content: readFileSync(path, 'utf8'), file: path, env: variablesOf(path) });
      if (!loaded.ok) expect.fail(loaded.errors.map(formatDiagnostic).join('\n'));
      expect(loaded.stack.services.map((s) => s.name).sort()).toEqual(Object.keys(services).sort());
      const position = new Map(loaded.stack.services.map((s, i) => [s.name, i]));
      for (const s of loaded.stack.services) {
        for (const dep of Object.keys(s.dependsOn)) expect(position.get(dep)!).toBeLessThan(position.get(s.name)!);
        expect(s.image).not.toBe('');
      }
    }
  });
});
