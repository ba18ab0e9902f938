import { docker } from '../../support/docker-engine.ts';

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
