import type { Logger } from 'pino';
import type { Clock } from '../seams/clock.ts';
import { RuntimeError } from '../seams/container-runtime.ts';
import type { EffectResult } from '../machines/container-types.ts';
import type { AgentTelemetry } from './agent-telemetry.ts';

export interface EngineCallDeps {
  readonly clock: Clock;
  readonly telemetry: AgentTelemetry;
  readonly logger: Logger;
}

/**
 * Runs one engine call and turns its outcome into an EffectResult: never rejects, counts every
 * failure by operation, and stamps the time so machines decide on injected time only.
 */
export async function engineCall<T>(deps: EngineCallDeps, operation: string, call: () => Promise<T>): Promise<EffectResult<T>> {
  try {
    const value = await call();
    return { ok: true, value, atMs: deps.clock.nowMs() };
  } catch (error) {
    const code = error instanceof RuntimeError ? error.code : 'unknown';
    const op = error instanceof RuntimeError ? error.operation : operation;
    safely(deps.logger, () => deps.telemetry.engineError(op));
    deps.logger.debug({ operation: op, code, err: error }, 'engine call failed');
    return { ok: false, code, message: error instanceof Error ? error.message : String(error), atMs: deps.clock.nowMs() };
  }
}

/** Telemetry and listeners are other people's code: a throw there must not break an actor. */
export function safely(logger: Logger, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    logger.warn({ err: error }, 'observer threw; ignored');
  }
}
