import type { AnyActorRef } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { actorKind, actorName } from '../../../src/observe/actor-description.ts';
import type { InspectionSource } from '../../../src/observe/inspection-hub.ts';
import { LateSources } from '../../../src/observe/late-sources.ts';
import { startHarness, type Harness } from '../agent/agent-harness.ts';
import { service, stack } from '../agent/fixtures.ts';

// Rollout machines are inspector sources while their rollout runs: started by the single node's
// rollout reconciler on the simulated engine, handed to a hub that attaches after the first one.
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

function recordingHub() {
  const sources: AnyActorRef[] = [];
  const log: string[] = [];
  return {
    sources,
    log,
    addSource: (source: InspectionSource) => {
      sources.push(source.root);
      log.push(`+${actorName(source.root)}`);
    },
    removeSource: (root: AnyActorRef) => {
      sources.splice(sources.indexOf(root), 1);
      log.push(`-${actorName(root)}`);
    },
  };
}

const web = (version: string) => {
  const base = service('web', { replicas: 2, environment: { VERSION: version } });
  return { ...base, deploy: { ...base.deploy, updateConfig: { ...base.deploy.updateConfig, monitorMs: 1000 } } };
};

describe('rollout machines in the inspector', () => {
  it('a rollout machine is a source from its start until its rollout ends, also when the hub attaches late', async () => {
    const late = new LateSources();
    h = await startHarness({}, undefined, { rollouts: { onMachine: late.follow } });
    await h.store.deploy(stack('app', [web('1')]));
    await h.until(() => h!.store.current().history.app?.[0]?.stable === true, 'v1 stable', 600_000);
    await h.store.deploy(stack('app', [web('2')]));
    await h.until(() => h!.store.current().rollouts.app?.services.web?.progress?.phase === 'updating', 'rollout under way', 600_000);

    const hub = recordingHub();
    late.attach(hub);
    expect(hub.sources.map((root) => [actorKind(root), actorName(root)])).toEqual([['rollout', 'rollout.app.web']]);

    await h.until(() => h!.store.current().rollouts.app?.services.web?.progress?.phase === 'completed', 'rollout completed', 600_000);
    await h.until(() => hub.sources.length === 0, 'the finished machine left the sources', 600_000);
    expect(hub.log).toEqual(['+rollout.app.web', '-rollout.app.web']);
  });
});
