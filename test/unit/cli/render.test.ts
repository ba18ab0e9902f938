import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ServiceRow } from '../../../src/api/service-rows.ts';
import { configOverrides } from '../../../src/cli/commands/daemon.ts';
import { ProgressDisplay } from '../../../src/cli/render/progress.ts';
import { renderTable } from '../../../src/cli/render/table.ts';

function row(service: string, running: number, desired: number, extra: Partial<ServiceRow> = {}): ServiceRow {
  return { id: `s_${service}`, stack: 's', service, image: 'i', desiredReplicas: desired, running, healthy: 0, healthcheck: false, converged: running === desired, failed: false, ...extra };
}

describe('rendering', () => {
  it('aligns table columns', () => {
    expect(renderTable(['A', 'LONGER'], [['xxxx', 'y'], ['z', '']])).toBe('A     LONGER\nxxxx  y\nz');
  });

  it('prints a plain line only when a service changes (not a TTY)', () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (chunk) => chunks.push(String(chunk)));
    const display = new ProgressDisplay(out);
    display.update([row('web', 0, 2)]);
    display.update([row('web', 0, 2)]);
    display.update([row('web', 2, 2)]);
    display.finish([row('web', 2, 2)]);
    expect(chunks.join('')).toBe('web: 0/2 running (converging)\nweb: 2/2 running (converged)\n');
  });

  it('shows a healthy count only for services with a healthcheck', () => {
    const out = new PassThrough();
    const chunks: string[] = [];
    out.on('data', (chunk) => chunks.push(String(chunk)));
    const display = new ProgressDisplay(out);
    display.update([row('web', 2, 2, { healthcheck: true, healthy: 1, converged: false }), row('worker', 1, 1)]);
    expect(chunks.join('')).toBe('web: 2/2 running, 1 healthy (converging)\nworker: 1/1 running (converged)\n');
  });

  it('redraws in place on a TTY', () => {
    const out = Object.assign(new PassThrough(), { isTTY: true });
    const chunks: string[] = [];
    out.on('data', (chunk) => chunks.push(String(chunk)));
    const display = new ProgressDisplay(out);
    display.update([row('web', 0, 2), row('db', 0, 1)]);
    display.update([row('web', 1, 2), row('db', 1, 1, { failed: true, converged: false })]);
    expect(chunks[0]).not.toContain('\u001b[2A');
    expect(chunks[1]!.startsWith('\u001b[2A')).toBe(true);
    expect(chunks[1]).toContain('1/2 running');
    expect(chunks[1]).toContain('✖');
  });
});

describe('daemon flags and defaults', () => {
  it('maps flags to dotted config keys', () => {
    expect(configOverrides({ dockerHost: 'unix:///x.sock', dataDir: '/d', apiPort: '9', logLevel: 'debug', apiHost: '::1', nodeId: 'n' })).toEqual({
      'docker.host': 'unix:///x.sock', 'node.dataDir': '/d', 'api.port': '9', 'log.level': 'debug', 'api.host': '::1', 'node.id': 'n',
    });
    expect(configOverrides({})).toEqual({});
  });
});
