import { describe, expect, it } from 'vitest';
import { loadCompose } from '../../../src/compose/load-compose.ts';
import { deliveryMode, wantsRebalance } from '../../../src/orchestrator/failover/delivery-mode.ts';

function serviceOf(content: string) {
  const result = loadCompose({ content, stackName: 'app', env: {} });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.stack.services[0]!;
}

describe('delivery mode', () => {
  it('defaults a one-replica service with a volume to at-most-once, everything else to at-least-once', () => {
    expect(deliveryMode(serviceOf('services:\n  db:\n    image: pg\n    volumes: ["data:/var/lib/pg"]\nvolumes:\n  data: {}\n'))).toBe('at-most-once');
    expect(deliveryMode(serviceOf('services:\n  db:\n    image: pg\n    deploy: {replicas: 2}\n    volumes: ["data:/var/lib/pg"]\nvolumes:\n  data: {}\n'))).toBe('at-least-once');
    expect(deliveryMode(serviceOf('services:\n  web:\n    image: nginx\n'))).toBe('at-least-once');
    expect(deliveryMode(serviceOf('services:\n  web:\n    image: nginx\n    tmpfs: /run\n'))).toBe('at-least-once');
  });

  it('follows the constellation.delivery deploy label either way', () => {
    expect(deliveryMode(serviceOf('services:\n  web:\n    image: nginx\n    deploy:\n      labels: {constellation.delivery: at-most-once}\n'))).toBe('at-most-once');
    expect(
      deliveryMode(serviceOf('services:\n  db:\n    image: pg\n    volumes: ["data:/d"]\n    deploy:\n      labels: [constellation.delivery=at-least-once]\nvolumes:\n  data: {}\n')),
    ).toBe('at-least-once');
  });

  it('rebalances only when asked', () => {
    expect(wantsRebalance(serviceOf('services:\n  web:\n    image: nginx\n'))).toBe(false);
    expect(wantsRebalance(serviceOf('services:\n  web:\n    image: nginx\n    deploy:\n      labels: {constellation.rebalance: "true"}\n'))).toBe(true);
  });

  it('refuses a mistyped label value before anything is written, naming file, key and service', () => {
    const result = loadCompose({ content: 'services:\n  web:\n    image: nginx\n    deploy:\n      labels:\n        constellation.delivery: at-most-one\n', stackName: 'app', env: {}, file: 'compose.yaml' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      expect.objectContaining({ code: 'COMPOSE_INVALID_FAILOVER_LABEL', service: 'web', file: 'compose.yaml', line: 6, path: 'services.web.deploy.labels["constellation.delivery"]' }),
    ]);
    expect(result.errors[0]!.message).toContain('"at-most-one"');
  });
});
