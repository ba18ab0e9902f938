import { configDefaults, defineConfig } from 'vitest/config';

// Four projects so a developer can run the fast ones alone; CI runs them all.
// - unit: machines, loaders, raft scenarios, API via inject(), multi-process raft on loopback.
// - properties: fast-check schedules on the deterministic simulator.
// - docker: real private Docker engines, started once per run by the global setup.
// - cluster: three netns "machines" (own dockerd each, veth links), started once per run.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'properties',
          include: ['test/properties/**/*.test.ts'],
          testTimeout: 600_000,
        },
      },
      {
        test: {
          name: 'docker',
          include: ['test/docker/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/e2e/cluster/**'],
          globalSetup: ['test/support/docker-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['test/e2e/cluster/**/*.test.ts'],
          globalSetup: ['test/support/netns-cluster-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
