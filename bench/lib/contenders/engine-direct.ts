import Dockerode from 'dockerode';
import type { Contender } from '../contender.ts';
import { benchServiceCommand } from '../stack-file.ts';
import { waitUntilRunning } from '../wait-running.ts';

// 8 as in the reference measurement; BENCH_ENGINE_PARALLELISM tries others (an experiment knob).
const parallelism = Number(process.env.BENCH_ENGINE_PARALLELISM ?? 8) || 8;
const label = 'constellation-bench.engine';

/**
 * The engine's own limit: the same containers created and started straight through the engine
 * API, 8 at a time (unless BENCH_ENGINE_PARALLELISM says otherwise), with no orchestration at all. Whatever an orchestrator adds shows against this.
 */
export const engineDirect: Contender = {
  id: 'engine',
  title: `engine API (create+start, ${parallelism} in parallel)`,
  async prepare(context) {
    const docker = new Dockerode({ socketPath: context.engine.socketPath });
    return {
      async deploy() {
        let next = 0;
        const worker = async () => {
          while (next < context.replicas) {
            const slot = ++next;
            const container = await docker.createContainer({
              name: `bench_web_${slot}`,
              Image: context.image,
              Cmd: [...benchServiceCommand],
              Labels: { [label]: 'web', 'constellation-bench.slot': String(slot) },
            });
            await container.start();
          }
        };
        await Promise.all(Array.from({ length: Math.min(parallelism, context.replicas) }, worker));
        await waitUntilRunning({ socketPath: context.engine.socketPath, label: `${label}=web`, count: context.replicas, timeoutMs: context.timeoutMs, what: 'engine API' });
      },
      async dispose() {},
    };
  },
};
