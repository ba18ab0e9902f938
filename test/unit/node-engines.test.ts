import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The README promises a minimum Node.js; `npm ci` warns EBADENGINE (and a user on that Node may
// hit a real incompatibility) as soon as one installed package asks for more. This keeps the
// promise, package.json's engines field and the lock file in agreement, so CI fails when an
// upgrade brings such a package back (pin it with package.json "overrides").

// semver ships no types; the three functions used here, typed by hand (no @types dependency).
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
  coerce(version: string): { version: string } | null;
};

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: Record<string, string> | string[]; optional?: boolean }>;
};

function statedMinimum(): string {
  const match = /Node\.js ≥ (\d+\.\d+(?:\.\d+)?)/.exec(readme);
  if (!match) throw new Error('README.md no longer states "Node.js ≥ X.Y" in its set-up section');
  return semver.coerce(match[1]!)!.version;
}

describe('the Node.js requirement', () => {
  it('README and package.json engines state the same minimum', () => {
    expect(semver.minVersion(manifest.engines.node)?.version).toBe(statedMinimum());
  });

  it('every locked package accepts the stated minimum Node.js (npm ci prints no EBADENGINE)', () => {
    const minimum = statedMinimum();
    const refusing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      // Old lock files may give engines as an array of strings; npm ignores those.
      const range = entry.engines && !Array.isArray(entry.engines) ? entry.engines.node : undefined;
      if (path === '' || range === undefined) continue;
      if (!semver.satisfies(minimum, range)) refusing.push(`${path.replace(/^.*node_modules\//, '')}@${entry.version} wants node ${range}`);
    }
    expect(refusing, `packages that refuse Node ${minimum}`).toEqual([]);
  });
});
