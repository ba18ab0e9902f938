import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { createDockerRuntime } from '../../src/adapters/docker/dockerode-runtime.ts';
import { enginesRoot, startPrivateEngine } from '../support/docker-engine.ts';

// The test-support engines themselves: the rest of the suite relies on them cleaning up.
function isRunning(pid: number): boolean {
  try {
    return !/\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function leftoversOf(name: string, baseDir: string) {
  return {
    dir: existsSync(baseDir),
    netns: existsSync(`/var/run/netns/cst-${name}`),
    mounts: readFileSync('/proc/self/mounts', 'utf8').includes(`${baseDir}/`),
    cgroup: existsSync(`/sys/fs/cgroup/pids/cst-${name}`),
  };
}

describe('private engines', () => {
  it('clean up after a crashed owner when the same name is started again, and stop() leaves nothing', async () => {
    const name = `rt-crash-${process.pid}`;
    const owner = spawn(process.execPath, ['--import', 'tsx', 'test/support/fixtures/engine-owner.ts', name], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((resolve) => owner.once('exit', resolve));
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: owner.stdout }).once('line', resolve);
      owner.once('exit', (code) => reject(new Error(`engine-owner exited with ${code} before starting its engine`)));
    });
    const orphanDockerdPid = Number(firstLine);
    owner.kill('SIGKILL');
    await exited;
    expect(isRunning(orphanDockerdPid)).toBe(true); // the crash really left dockerd behind

    const engine = await startPrivateEngine(name);
    expect(isRunning(orphanDockerdPid)).toBe(false);
    // A fresh engine: the crashed run's container is gone with its data-root.
    expect(await createDockerRuntime(engine.dockerHost).list({})).toEqual([]);

    await engine.stop();
    expect(leftoversOf(name, `${enginesRoot}/${name}`)).toEqual({ dir: false, netns: false, mounts: false, cgroup: false });
  });

  it('refuses names that cannot name a namespace and a directory', async () => {
    await expect(startPrivateEngine('Bad Name')).rejects.toThrow(/must match/);
  });
});
