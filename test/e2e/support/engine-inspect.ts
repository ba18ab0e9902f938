import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { docker, dockerCliPath } from '../../support/docker-engine.ts';

export interface EngineContainer {
  readonly id: string;
  readonly name: string;
  readonly running: boolean;
  readonly startedAt: string;
  readonly restartCount: number;
  readonly labels: Record<string, string>;
}

/** What the engine itself says (not the daemon): containers carrying a constellation label. */
export async function engineContainers(dockerHost: string, label = 'constellation.stack'): Promise<EngineContainer[]> {
  const ids = (await docker(dockerHost, ['ps', '-aq', '--no-trunc', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = JSON.parse((await docker(dockerHost, ['inspect', ...ids])).stdout) as {
    Id: string; Name: string; RestartCount: number; State: { Running: boolean; StartedAt: string }; Config: { Labels: Record<string, string> | null };
  }[];
  return inspected.map((c) => ({
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    running: c.State.Running,
    startedAt: c.State.StartedAt,
    restartCount: c.RestartCount,
    labels: c.Config.Labels ?? {},
  })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export async function stackContainers(dockerHost: string, stack: string): Promise<EngineContainer[]> {
  return engineContainers(dockerHost, `constellation.stack=${stack}`);
}

/** Test cleanup: force-remove every container of the given stacks, whatever the daemon did. */
export async function removeStackContainers(dockerHost: string, stacks: readonly string[]): Promise<void> {
  for (const stack of stacks) {
    const ids = (await docker(dockerHost, ['ps', '-aq', '--filter', `label=constellation.stack=${stack}`])).stdout.split('\n').filter(Boolean);
    if (ids.length > 0) await docker(dockerHost, ['rm', '-f', ...ids]);
  }
}

/** Container starts the engine reports for one stack, in order, as they happen (its event stream). */
export interface StartWatch {
  /** Resolves once the engine has reported `count` starts; rejects if the stream ends first. */
  started(count: number): Promise<string[]>;
  stop(): void;
}

/**
 * Follows `docker events` for starts of a stack's containers. `--since` replays what happened from
 * one second before the call, so a start between spawning the CLI and its subscription is not lost.
 */
export function watchStackStarts(dockerHost: string, stack: string): StartWatch {
  const since = String(Math.floor(Date.now() / 1000) - 1);
  const child = spawn(dockerCliPath(), ['-H', dockerHost, 'events', '--since', since, '--filter', 'type=container', '--filter', 'event=start',
    '--filter', `label=constellation.stack=${stack}`, '--format', '{{.Actor.Attributes.name}}'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const names: string[] = [];
  const waiters = new Set<{ count: number; resolve: (names: string[]) => void; reject: (error: Error) => void }>();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  createInterface({ input: child.stdout }).on('line', (name) => {
    names.push(name);
    for (const waiter of waiters) {
      if (names.length >= waiter.count) {
        waiters.delete(waiter);
        waiter.resolve([...names]);
      }
    }
  });
  child.on('exit', (code, signal) => {
    for (const waiter of waiters) waiter.reject(new Error(`docker events ended (${code ?? signal}) after ${names.length} starts: ${stderr}`));
    waiters.clear();
  });
  return {
    started: (count) => (names.length >= count ? Promise.resolve([...names]) : new Promise((resolve, reject) => waiters.add({ count, resolve, reject }))),
    stop: () => child.kill('SIGTERM'),
  };
}
