import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../support/free-port.ts';

interface LogLine { level: number; msg: string; [key: string]: unknown }

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('the daemon without a Docker engine', () => {
  it('warns once, in one line that says what to do, with no stack trace, however often the agent retries', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cst-no-engine-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const socket = join(dataDir, 'no-such-docker.sock');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--docker-host', `unix://${socket}`, '--data-dir', dataDir,
      '--api-port', String(await freeLoopbackPort()), '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CONSTELLATION_LOG_FORMAT: 'json' } });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    });
    const lines: LogLine[] = [];
    // Wait for the agent's third listing attempt: by then every retry path has run more than once.
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (text) => {
        const line = JSON.parse(text) as LogLine;
        lines.push(line);
        if (line.msg.startsWith('engine listing failed') && Number(line.attempt) >= 3) resolve();
      });
      void exited.then((code) => reject(new Error(`the daemon exited (${code}) before its third listing attempt:\n${lines.map((l) => l.msg).join('\n')}`)));
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);

    const warnings = lines.filter((line) => line.level >= 40);
    expect(warnings.map((line) => line.msg)).toEqual([
      `docker engine not reachable at unix://${socket} (connect ENOENT ${socket}): start Docker there, or point docker.host in the config, --docker-host or DOCKER_HOST at a running engine; the daemon keeps retrying and accepts deploys meanwhile`,
    ]);
    expect(warnings[0]).not.toHaveProperty('err');
    expect(JSON.stringify(warnings[0])).not.toContain('    at ');
  });
});
