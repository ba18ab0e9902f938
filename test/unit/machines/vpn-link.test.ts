import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { vpnLinkMachine } from '../../../src/machines/vpn-link.ts';
import type { DependentObservation, LinkCommand, LinkReport, VpnLinkInput, VpnObservation } from '../../../src/machines/vpn-link-types.ts';

// Transitions of the vpn-link machine on the virtual clock: X restarted (same id, new run), X
// recreated (new id), X unhealthy (the kill switch), and a dependent updated on its own.

const names = ['vpn_web_1', 'vpn_api_1', 'vpn_dl_1'];

function start(input: Partial<VpnLinkInput> = {}) {
  const clock = new SimulatedClock();
  const commands: LinkCommand[] = [];
  const reports: LinkReport[] = [];
  const machine = vpnLinkMachine.provide({
    actions: {
      command: (_args, params) => commands.push(params),
      report: (_args, params) => reports.push(params),
    },
  });
  const actor = createActor(machine, { clock, input: { link: 'vpn_gw_1', stack: 'vpn', vpn: 'gw', slot: 1, onUnhealthy: 'stop', ...input } });
  actor.start();
  const vpn = (v: Partial<VpnObservation>): VpnObservation => ({ containerId: 'x1', running: true, health: 'healthy', startedAtMs: 1000, hasHealthcheck: true, ...v });
  const observe = (x: Partial<VpnObservation>, dependents: DependentObservation[]) => {
    actor.send({ type: 'OBSERVE', observation: { vpn: vpn(x), dependents, atMs: clock.now() } });
  };
  const take = () => commands.splice(0).map((c) => `${c.command} ${c.name}`);
  const state = () => actor.getSnapshot().value;
  const detail = () => reports.at(-1)?.view.detail;
  return { actor, clock, commands, reports, observe, take, state, detail };
}

/** Dependents in the given phase, bound to `target`, started at `startedAtMs`. */
function deps(phase: DependentObservation['phase'], target = 'x1', startedAtMs = 2000, ids = ['d1', 'd2', 'd3']): DependentObservation[] {
  return names.map((name, index) => ({ name, containerId: ids[index]!, phase, networkTarget: target, startedAtMs }));
}

function withPhases(phases: DependentObservation['phase'][], target = 'x1', startedAtMs = 2000): DependentObservation[] {
  return names.map((name, index) => ({ name, containerId: `d${index + 1}`, phase: phases[index]!, networkTarget: target, startedAtMs }));
}

describe('vpn-link machine: start order', () => {
  it('waits for X to be healthy, then is up once every dependent runs in its namespace', () => {
    const r = start();
    expect(r.state()).toBe('starting');
    r.observe({ running: true, health: 'starting' }, names.map((name) => ({ name, phase: 'absent' })));
    expect(r.detail()).toBe('starting (waiting for gw to be healthy)');
    r.observe({}, withPhases(['running', 'busy', 'absent']));
    expect(r.state()).toBe('starting');
    expect(r.detail()).toBe('starting (1 of 3 dependents running)');
    r.observe({}, deps('running'));
    expect(r.state()).toBe('up');
    expect(r.detail()).toBe('up');
    expect(r.take()).toEqual([]);
    // Reaching up for the first time is not a recovery.
    expect(r.reports.some((report) => report.recoveredSeconds !== undefined)).toBe(false);
  });

  it('without a healthcheck on X, running is enough', () => {
    const r = start();
    r.observe({ hasHealthcheck: false, health: 'none' }, deps('running'));
    expect(r.state()).toBe('up');
  });
});

describe('vpn-link machine: X restarts (same container, new namespace)', () => {
  it('holds every dependent while X is down, then releases them one by one in depends_on order', () => {
    const r = start();
    r.observe({}, deps('running'));
    r.clock.increment(10_000);
    r.observe({ running: false, health: 'none' }, deps('running'));
    expect(r.state()).toBe('down');
    expect(r.take()).toEqual(['hold vpn_web_1', 'hold vpn_api_1', 'hold vpn_dl_1']);
    expect(r.detail()).toBe('down (gw not running; kill switch stop: 0 dependents stopped)');
    r.observe({ running: false, health: 'none' }, deps('held'));
    expect(r.detail()).toBe('down (gw not running; kill switch stop: 3 dependents stopped)');
    expect(r.take()).toEqual([]);
    // X runs again (same id, a new run) but is not healthy yet: nothing may start.
    r.observe({ startedAtMs: 12_000, health: 'starting' }, deps('held'));
    expect(r.state()).toBe('down');
    expect(r.take()).toEqual([]);
    r.clock.increment(1500);
    r.observe({ startedAtMs: 12_000 }, deps('held'));
    expect(r.state()).toBe('recovering');
    expect(r.detail()).toBe('recovering (restarting 3 dependents)');
    expect(r.take()).toEqual(['release vpn_web_1']);
    r.observe({ startedAtMs: 12_000 }, withPhases(['busy', 'held', 'held'], 'x1', 2000));
    expect(r.take()).toEqual([]);
    r.observe({ startedAtMs: 12_000 }, [{ ...withPhases(['running'])[0]!, startedAtMs: 13_000 }, ...withPhases(['running', 'held', 'held']).slice(1)]);
    expect(r.take()).toEqual(['release vpn_api_1']);
    r.clock.increment(500);
    r.observe({ startedAtMs: 12_000 }, deps('running', 'x1', 13_000));
    expect(r.state()).toBe('up');
    const recovered = r.reports.at(-1)!;
    expect(recovered.recoveredSeconds).toBe(2);
    expect(recovered.view.recoveries).toBe(1);
  });

  it('with on_unhealthy keep, leaves them running while X is down, then restarts those left in the dead namespace', () => {
    const r = start({ onUnhealthy: 'keep' });
    r.observe({}, deps('running'));
    r.observe({ running: false, health: 'none' }, deps('running'));
    expect(r.state()).toBe('down');
    expect(r.take()).toEqual([]);
    expect(r.detail()).toBe('down (gw not running; kill switch keep: dependents kept as they are)');
    r.observe({ startedAtMs: 12_000 }, deps('running'));
    expect(r.state()).toBe('recovering');
    expect(r.take()).toEqual(['hold vpn_web_1', 'hold vpn_api_1', 'hold vpn_dl_1']);
    r.observe({ startedAtMs: 12_000 }, deps('held'));
    expect(r.take()).toEqual(['release vpn_web_1']);
  });

  it('a dependent adopted in a dead namespace (a daemon restarted mid-recovery) is restarted from the start state', () => {
    const r = start();
    r.observe({ startedAtMs: 12_000 }, [...withPhases(['running', 'held', 'held']).map((d) => ({ ...d, startedAtMs: 13_000 })).slice(0, 1), ...withPhases(['running', 'held', 'held']).slice(1)]);
    // The first runs in the new namespace; the second is held: release it, and only it.
    expect(r.take()).toEqual(['release vpn_api_1']);
    r.observe({ startedAtMs: 12_000 }, deps('running', 'x1', 2000));
    // All three started before X's current run: hold them all for a restart.
    expect(r.take()).toEqual(['hold vpn_web_1', 'hold vpn_api_1', 'hold vpn_dl_1']);
  });
});

describe('vpn-link machine: X recreated (new container id)', () => {
  it('recreates every dependent against the new id instead of restarting it', () => {
    const r = start();
    r.observe({}, deps('running'));
    r.clock.increment(1000);
    // The old X is removed: the kill switch stops the dependents.
    r.observe({ containerId: undefined, running: false, health: 'none' }, deps('running'));
    expect(r.state()).toBe('down');
    expect(r.detail()).toBe('down (gw no container; kill switch stop: 0 dependents stopped)');
    expect(r.take()).toEqual(['hold vpn_web_1', 'hold vpn_api_1', 'hold vpn_dl_1']);
    r.observe({ containerId: 'x2', startedAtMs: 20_000 }, deps('held'));
    expect(r.state()).toBe('recovering');
    expect(r.detail()).toBe('recovering (recreating 3 dependents)');
    // Bound to x1, which is gone: a start would fail with "No such container"; only new containers help.
    expect(r.take()).toEqual(['recreate vpn_web_1', 'recreate vpn_api_1', 'recreate vpn_dl_1']);
    r.observe({ containerId: 'x2', startedAtMs: 20_000 }, withPhases(['removing', 'removing', 'absent']));
    expect(r.take()).toEqual([]);
    r.observe({ containerId: 'x2', startedAtMs: 20_000 }, names.map((name) => ({ name, phase: 'absent' })));
    expect(r.take()).toEqual([]);
    expect(r.state()).toBe('recovering');
    r.clock.increment(3000);
    r.observe({ containerId: 'x2', startedAtMs: 20_000 }, deps('running', 'x2', 21_000, ['e1', 'e2', 'e3']));
    expect(r.state()).toBe('up');
    expect(r.reports.at(-1)!.recoveredSeconds).toBe(3);
  });
});

describe('vpn-link machine: kill switch while X is unhealthy', () => {
  it('stop: dependents are held while X is unhealthy and released in order once healthy again', () => {
    const r = start();
    r.observe({}, deps('running'));
    r.observe({ health: 'unhealthy' }, deps('running'));
    expect(r.state()).toBe('down');
    expect(r.take()).toEqual(['hold vpn_web_1', 'hold vpn_api_1', 'hold vpn_dl_1']);
    r.observe({ health: 'unhealthy' }, deps('held'));
    expect(r.detail()).toBe('down (gw unhealthy; kill switch stop: 3 dependents stopped)');
    r.observe({ health: 'healthy' }, deps('held'));
    expect(r.state()).toBe('recovering');
    expect(r.take()).toEqual(['release vpn_web_1']);
  });

  it('pause: dependents are paused, then unpaused in order', () => {
    const r = start({ onUnhealthy: 'pause' });
    r.observe({}, deps('running'));
    r.observe({ health: 'unhealthy' }, deps('running'));
    expect(r.take()).toEqual(['pause vpn_web_1', 'pause vpn_api_1', 'pause vpn_dl_1']);
    r.observe({ health: 'unhealthy' }, deps('paused'));
    expect(r.detail()).toBe('down (gw unhealthy; kill switch pause: 3 dependents paused)');
    r.observe({}, deps('paused'));
    expect(r.take()).toEqual(['release vpn_web_1']);
    r.observe({}, withPhases(['running', 'paused', 'paused']));
    expect(r.take()).toEqual(['release vpn_api_1']);
  });

  it('keep: an unhealthy spell without a restart leaves everything alone and ends up again', () => {
    const r = start({ onUnhealthy: 'keep' });
    r.observe({}, deps('running'));
    r.observe({ health: 'unhealthy' }, deps('running'));
    expect(r.state()).toBe('down');
    r.observe({}, deps('running'));
    expect(r.state()).toBe('up');
    expect(r.take()).toEqual([]);
  });
});

describe('vpn-link machine: one dependent updated', () => {
  it('leaves X and the other dependents alone while the planner replaces it', () => {
    const r = start();
    r.observe({}, deps('running'));
    r.observe({}, withPhases(['running', 'removing', 'running']));
    r.observe({}, [...withPhases(['running']).slice(0, 1), { name: names[1]!, phase: 'absent' }, ...withPhases(['running', 'running', 'running']).slice(2)]);
    r.observe({}, [...withPhases(['running']).slice(0, 1), { name: names[1]!, containerId: 'd2b', phase: 'busy', networkTarget: 'x1' }, ...withPhases(['running', 'running', 'running']).slice(2)]);
    r.observe({}, [...withPhases(['running']).slice(0, 1), { name: names[1]!, containerId: 'd2b', phase: 'running', networkTarget: 'x1', startedAtMs: 30_000 }, ...withPhases(['running', 'running', 'running']).slice(2)]);
    expect(r.state()).toBe('up');
    expect(r.take()).toEqual([]);
    expect(r.reports.filter((report) => report.recoveredSeconds !== undefined)).toEqual([]);
  });
});

describe('vpn-link machine: retry on the clock', () => {
  it('a recovery that sees no change drives again after the retry delay', () => {
    const r = start({ retryMs: 5000 });
    r.observe({}, deps('running'));
    r.observe({ running: false, health: 'none' }, deps('running'));
    expect(r.take()).toHaveLength(3);
    r.observe({ startedAtMs: 9000 }, deps('held'));
    expect(r.take()).toEqual(['release vpn_web_1']);
    r.clock.increment(4999);
    expect(r.take()).toEqual([]);
    r.clock.increment(1);
    expect(r.take()).toEqual(['release vpn_web_1']);
    expect(r.state()).toBe('recovering');
  });

  it('never commands X, and never releases a dependent while X is not ready', () => {
    const r = start();
    const phases: DependentObservation['phase'][] = ['absent', 'busy', 'running', 'holding', 'held', 'pausing', 'paused', 'down', 'removing'];
    for (const running of [true, false]) {
      for (const health of ['none', 'starting', 'healthy', 'unhealthy'] as const) {
        for (const phase of phases) {
          r.observe({ running, health }, deps(phase));
          const sent = r.commands.splice(0);
          expect(sent.every((c) => names.includes(c.name))).toBe(true);
          if (!(running && health === 'healthy')) expect(sent.filter((c) => c.command === 'release' || c.command === 'recreate')).toEqual([]);
        }
      }
    }
  });
});
