import Dockerode from 'dockerode';

export interface WaitRunningOptions {
  readonly socketPath: string;
  /** Engine label filter ("key=value") that selects the contender's containers. */
  readonly label: string;
  readonly count: number;
  readonly timeoutMs: number;
  readonly what: string;
}

// BENCH_POLL_MS changes the interval, to see what the polling itself costs the engine (a knob).
const pollIntervalMs = Number(process.env.BENCH_POLL_MS ?? 50) || 50;

/**
 * Resolves when at least `count` containers with the label are running, as the engine sees it.
 * Polls every 50 ms: the measurement resolution, small against the seconds measured.
 */
export async function waitUntilRunning(options: WaitRunningOptions): Promise<void> {
  const docker = new Dockerode({ socketPath: options.socketPath });
  const deadline = Date.now() + options.timeoutMs;
  let running = 0;
  while (true) {
    const rows = await docker.listContainers({ filters: { label: [options.label], status: ['running'] } });
    running = rows.length;
    if (running >= options.count) return;
    if (Date.now() > deadline) {
      throw new Error(`${options.what}: only ${running} of ${options.count} containers running after ${options.timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}

/**
 * Resolves when the engines together run at least `count` containers with the label (a cluster
 * deploy is done when every machine's engine says so). Same 50 ms polling as waitUntilRunning.
 */
export async function waitUntilRunningOnEngines(options: Omit<WaitRunningOptions, 'socketPath'> & { readonly socketPaths: readonly string[] }): Promise<number[]> {
  const engines = options.socketPaths.map((socketPath) => new Dockerode({ socketPath }));
  const deadline = Date.now() + options.timeoutMs;
  while (true) {
    const perEngine = await Promise.all(engines.map(async (docker) => (await docker.listContainers({ filters: { label: [options.label], status: ['running'] } })).length));
    const running = perEngine.reduce((sum, n) => sum + n, 0);
    if (running >= options.count) return perEngine;
    if (Date.now() > deadline) {
      throw new Error(`${options.what}: only ${running} of ${options.count} containers running (per engine ${perEngine.join('/')}) after ${options.timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
}
