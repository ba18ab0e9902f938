import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { apiTokenPath, ensureApiTokenFile, readApiTokenFile } from '../../../src/adapters/api-token-file.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cst-token-'));
  dirs.push(dir);
  return dir;
}

describe('the generated API token file', () => {
  it('is created at the first start: 256 random bits, mode 0600, no temporary left behind', async () => {
    const dir = dataDir();
    const first = await ensureApiTokenFile(dir);
    expect(first).toMatchObject({ file: apiTokenPath(dir), created: true });
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(first.token, 'base64url')).toHaveLength(32);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(readFileSync(first.file, 'utf8')).toBe(`${first.token}\n`);
    expect(readdirSync(dir)).toEqual(['api-token']);
    // Another data dir gets another token.
    expect((await ensureApiTokenFile(dataDir())).token).not.toBe(first.token);
  });

  it('is reused on later starts', async () => {
    const dir = dataDir();
    const first = await ensureApiTokenFile(dir);
    const again = await ensureApiTokenFile(dir);
    expect(again).toEqual({ token: first.token, file: first.file, created: false });
  });

  it('two daemons starting at once end up with one token', async () => {
    const dir = dataDir();
    const results = await Promise.all([ensureApiTokenFile(dir), ensureApiTokenFile(dir), ensureApiTokenFile(dir)]);
    expect(new Set(results.map((r) => r.token)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(readdirSync(dir)).toEqual(['api-token']);
  });

  it('a file other users can read is refused, naming the fix', async () => {
    const dir = dataDir();
    writeFileSync(apiTokenPath(dir), 'some-token\n');
    chmodSync(apiTokenPath(dir), 0o644);
    await expect(ensureApiTokenFile(dir)).rejects.toMatchObject({ code: 'api_token_insecure', message: expect.stringContaining(`chmod 600 ${apiTokenPath(dir)}`) });
    expect(readApiTokenFile(apiTokenPath(dir))).toMatchObject({ ok: false, reason: 'error', error: { code: 'api_token_insecure' } });
  });

  it('an empty or mangled file is refused rather than replaced silently', async () => {
    for (const content of ['', '\n', 'two words\n', 'tab\there']) {
      const dir = dataDir();
      writeFileSync(apiTokenPath(dir), content, { mode: 0o600 });
      await expect(ensureApiTokenFile(dir), JSON.stringify(content)).rejects.toMatchObject({ code: 'api_token_invalid' });
    }
  });

  it('a hand-written token (0600) is used as it is', async () => {
    const dir = dataDir();
    writeFileSync(apiTokenPath(dir), '  my-own-token  \n', { mode: 0o600 });
    expect(await ensureApiTokenFile(dir)).toMatchObject({ token: 'my-own-token', created: false });
  });

  it('a path that cannot be read is a coded error naming the file', () => {
    const dir = dataDir();
    mkdirSync(apiTokenPath(dir));
    const result = readApiTokenFile(apiTokenPath(dir));
    expect(result).toMatchObject({ ok: false, reason: 'error', error: { code: 'api_token_unreadable', message: expect.stringContaining(apiTokenPath(dir)) } });
    expect(readApiTokenFile(join(dir, 'nothing-here'))).toEqual({ ok: false, reason: 'missing' });
  });
});
