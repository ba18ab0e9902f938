import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

// In a child process: vitest has its own handlers for these process events.
describe('process guards', () => {
  it('log an unhandled rejection and an uncaught exception, and keep the process alive', () => {
    const script = `
      import { createLogger } from './src/log/create-logger.ts';
      import { installProcessGuards } from './src/daemon/process-guards.ts';
      installProcessGuards(createLogger({ level: 'info', format: 'json' }));
      void Promise.reject(new Error('lost promise'));
      setTimeout(() => { throw new Error('thrown in a timer'); }, 10);
      setTimeout(() => console.log('still alive'), 100);
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    const logged = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; err?: { message: string } });
    expect(logged).toEqual([
      expect.objectContaining({ msg: 'unhandled promise rejection (daemon keeps running)', err: expect.objectContaining({ message: 'lost promise' }) }),
      expect.objectContaining({ msg: 'uncaught exception (daemon keeps running)', err: expect.objectContaining({ message: 'thrown in a timer' }) }),
    ]);
    expect(lines.at(-1)).toBe('still alive');
  });
});
