import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDaemonMetrics } from '../../../src/metrics/daemon-metrics.ts';
import { registeredMetricNames } from './registered-metrics.ts';

// docs/metrics.md is the catalog of what GET /metrics exports: it must name every metric, and
// only metrics that exist.
const catalog = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');

describe('metrics catalog', () => {
  it('lists every metric the daemon exports, and no other constellation_ metric', async () => {
    const { names: exported } = await registeredMetricNames();
    expect(exported.length).toBeGreaterThan(20);
    const missing = exported.filter((name) => !catalog.includes(`\`${name}\``) && !catalog.includes(`${name}\``) && !/^nodejs_eventloop_lag_(min|max|mean|stddev|p50|p90|p99)_seconds$/.test(name));
    expect(missing).toEqual([]);
    const documented = [...catalog.matchAll(/`(constellation_[a-z_]+)`/g)].map((match) => match[1]!);
    expect(documented.filter((name) => !exported.includes(name))).toEqual([]);
  });

  it('reads the observe sources at scrape time', async () => {
    const metrics = createDaemonMetrics({ collectProcessMetrics: false });
    metrics.observe.inspectViewers = () => 3;
    metrics.observe.clusterEvents = () => 42;
    const text = await metrics.registry.metrics();
    expect(text).toContain('constellation_inspect_viewers 3');
    expect(text).toContain('constellation_cluster_events_total 42');
    metrics.observe.clusterEvents = () => 43;
    expect(await metrics.registry.metrics()).toContain('constellation_cluster_events_total 43');
  });

  it('actors by kind, read at scrape time; a kind with none left disappears', async () => {
    const metrics = createDaemonMetrics({ collectProcessMetrics: false });
    metrics.observe.actorsByKind = () => new Map([['container', 3], ['node-agent', 1]]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('constellation_actors{kind="container"} 3');
    expect(text).toContain('constellation_actors{kind="node-agent"} 1');
    metrics.observe.actorsByKind = () => new Map([['node-agent', 1]]);
    expect(await metrics.registry.metrics()).not.toContain('kind="container"');
  });

  it('Raft gauges read the member\'s status; leader changes count only a different leader', async () => {
    const metrics = createDaemonMetrics({ collectProcessMetrics: false });
    expect(await metrics.registry.metrics()).toContain('constellation_raft_term 0');
    metrics.raft.status = () => ({ role: 'leader', term: 7, commitIndex: 41, appliedIndex: 40, lastLogIndex: 42 });
    for (const leader of [undefined, 'a', 'a', undefined, 'a', 'b', 'b', 'a']) metrics.raft.leaderSeen(leader);
    metrics.raft.walSynced(0.002);
    metrics.raft.appended(0.01, 'committed');
    const text = await metrics.registry.metrics();
    for (const line of ['constellation_raft_term 7', 'constellation_raft_commit_index 41', 'constellation_raft_applied_index 40', 'constellation_raft_last_log_index 42',
      'constellation_raft_role{role="leader"} 1', 'constellation_raft_role{role="follower"} 0', 'constellation_raft_leader_changes_total 2',
      'constellation_raft_wal_fsync_duration_seconds_count 1', 'constellation_raft_append_duration_seconds_count{outcome="committed"} 1', 'constellation_raft_append_duration_seconds_count{outcome="failed"} 0']) {
      expect(text, line).toContain(line);
    }
  });
});
