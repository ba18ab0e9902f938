import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registeredMetricNames } from './registered-metrics.ts';

// docs/grafana/constellation.json may only query metrics the daemon registers: a renamed metric
// or a typo in a panel would otherwise show "No data" forever with nothing to say why.
const dashboard = JSON.parse(readFileSync(new URL('../../../docs/grafana/constellation.json', import.meta.url), 'utf8')) as {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { query?: unknown }[] };
};

const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression selects (label matchers, ranges, grouping and functions left out). */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ');
  const names: string[] = [];
  for (const match of bare.matchAll(/\$?[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?/g)) {
    const [token, call] = [match[0].replace(/\s*\($/, ''), match[1]];
    if (call || token.startsWith('$') || keywords.has(token.toLowerCase())) continue;
    names.push(token);
  }
  return names;
}

/** A histogram is registered under its base name and queried through its series. */
const baseName = (name: string): string => name.replace(/_(bucket|count|sum)$/, '');

describe('the Grafana dashboard', () => {
  it('extracts metric names from PromQL the way the dashboard writes it', () => {
    expect(metricNamesIn('histogram_quantile(0.99, sum by (le, route) (rate(constellation_http_request_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))'))
      .toEqual(['constellation_http_request_duration_seconds_bucket']);
    expect(metricNamesIn('constellation_raft_role{role="leader"} == 1 or on (instance) up')).toEqual(['constellation_raft_role', 'up']);
  });

  it('queries only metrics the daemon registers, and uses the new Raft, API and actor metrics', async () => {
    const { names } = await registeredMetricNames();
    const registered = new Set(names);
    const queried = new Map<string, string>();
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThan(10);
    for (const panel of panels) {
      expect(panel.targets?.length, `panel "${panel.title}" has queries`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        const inExpr = metricNamesIn(target.expr);
        expect(inExpr.length, `"${panel.title}": ${target.expr}`).toBeGreaterThan(0);
        for (const name of inExpr) queried.set(name, panel.title);
      }
    }
    for (const variable of dashboard.templating.list) {
      const query = variable.query as { query?: string } | string | undefined;
      const text = typeof query === 'string' ? query : query?.query;
      const selected = text ? /label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)/.exec(text)?.[1] : undefined;
      if (selected) queried.set(selected, 'templating');
    }
    const unknown = [...queried].filter(([name]) => !registered.has(baseName(name))).map(([name, where]) => `${name} (${where})`);
    expect(unknown).toEqual([]);
    for (const required of ['constellation_raft_term', 'constellation_raft_commit_index', 'constellation_raft_leader_changes_total', 'constellation_raft_append_duration_seconds', 'constellation_raft_wal_fsync_duration_seconds', 'constellation_http_request_duration_seconds', 'constellation_actors']) {
      expect([...queried.keys()].map(baseName), required).toContain(required);
    }
  });
});
