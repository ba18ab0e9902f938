import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Machines are pure: effects live in actors and adapters, so the simulator can drive the same logic.
const impureModules = [
  'fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'net', 'node:net', 'http', 'node:http',
  'child_process', 'node:child_process', 'dockerode', 'ws', 'fastify', 'pino', 'prom-client',
  'dgram', 'node:dgram', 'crypto', 'node:crypto', 'timers', 'node:timers',
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The daemon's web pages run in the browser, as plain modules with no build step.
    files: ['src/web/**/*.js'],
    languageOptions: { globals: { ...globals.browser }, sourceType: 'module' },
  },
  {
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    // The scheduler is business logic only, like the machines: a plan is a pure function of its snapshot.
    files: ['src/machines/**/*.ts', 'src/scheduler/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: impureModules.map((name) => ({ name, message: 'src/machines and src/scheduler must stay pure: do I/O in src/actors or src/adapters.' })) }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Use the injected clock: machines are driven by simulated time in tests.' },
        { object: 'Math', property: 'random', message: 'Use the injected Random seam: runs must replay from a seed.' },
        { object: 'process', message: 'Machines must not read the process environment.' },
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate', 'fetch', 'performance'],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'Use the injected clock.' }],
    },
  },
);
