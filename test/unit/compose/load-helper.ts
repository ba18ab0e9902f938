import { expect } from 'vitest';
import { loadCompose, type LoadComposeOptions } from '../../../src/compose/load-compose.ts';
import type { ComposeDiagnostic, ServiceSpec, StackSpec } from '../../../src/compose/types.ts';

/** Loads YAML text that must load; fails the test with every diagnostic otherwise. */
export function loadOk(content: string, options: Partial<LoadComposeOptions> = {}): { stack: StackSpec; warnings: ComposeDiagnostic[] } {
  const result = loadCompose({ stackName: 'test', env: {}, ...options, content });
  if (!result.ok) expect.fail(`expected the file to load, got:\n${result.errors.map((e) => JSON.stringify(e)).join('\n')}`);
  return { stack: result.stack, warnings: result.warnings };
}

export function loadErrors(content: string, options: Partial<LoadComposeOptions> = {}): ComposeDiagnostic[] {
  const result = loadCompose({ stackName: 'test', env: {}, ...options, content });
  if (result.ok) expect.fail(`expected the file to be refused, but it loaded: ${JSON.stringify(result.stack)}`);
  return result.errors;
}

/** The one service of a single-service file written as `services: { svc: <body> }`. */
export function service(body: string, options: Partial<LoadComposeOptions> = {}): ServiceSpec {
  const { stack } = loadOk(`services:\n  svc:\n${indent(body, 4)}\n`, options);
  return stack.services[0]!;
}

export function serviceErrors(body: string, options: Partial<LoadComposeOptions> = {}): ComposeDiagnostic[] {
  return loadErrors(`services:\n  svc:\n${indent(body, 4)}\n`, options);
}

export function indent(text: string, spaces: number): string {
  return text.split('\n').map((line) => (line === '' ? line : ' '.repeat(spaces) + line)).join('\n');
}
