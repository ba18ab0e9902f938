/**
 * `healthcheck:` → HealthcheckSpec, with Docker's defaults (interval 30s, timeout 30s, retries 3,
 * start_period 0). test: a string means ["CMD-SHELL", string]; a list must start with NONE, CMD
 * or CMD-SHELL; ["NONE"] or `disable: true` disables the image's healthcheck. A healthcheck
 * without `test` keeps the image's test and only overrides timings (test is then []).
 */
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';
import { durationField, integerField } from './normalize-values.ts';
import type { HealthcheckSpec } from './types.ts';

export const healthcheckDefaults = { intervalMs: 30_000, timeoutMs: 30_000, retries: 3, startPeriodMs: 0 } as const;

export function normalizeHealthcheck(raw: unknown, ctx: NormalizeContext): HealthcheckSpec | undefined {
  if (raw === undefined || raw === null) return undefined;
  const hc = raw as Record<string, unknown>;
  const path = [...ctx.servicePath, 'healthcheck'];
  let test: string[] = [];
  if (typeof hc.test === 'string') test = ['CMD-SHELL', hc.test];
  else if (Array.isArray(hc.test)) test = hc.test.map(String);
  if (test.length > 0 && !['NONE', 'CMD', 'CMD-SHELL'].includes(test[0]!)) {
    ctx.sink.error([...path, 'test'], composeCodes.invalidHealthcheck,
      `a healthcheck test list must start with "CMD", "CMD-SHELL" or "NONE", got ${JSON.stringify(test[0])}`);
  } else if ((test[0] === 'CMD' || test[0] === 'CMD-SHELL') && test.length < 2) {
    ctx.sink.error([...path, 'test'], composeCodes.invalidHealthcheck, `"${test[0]}" needs a command after it`);
  }
  const disable = hc.disable === true || hc.disable === 'true' || test[0] === 'NONE';
  const startIntervalMs = durationField(hc.start_interval, [...path, 'start_interval'], ctx);
  return {
    test: disable ? ['NONE'] : test,
    intervalMs: durationField(hc.interval, [...path, 'interval'], ctx) ?? healthcheckDefaults.intervalMs,
    timeoutMs: durationField(hc.timeout, [...path, 'timeout'], ctx) ?? healthcheckDefaults.timeoutMs,
    retries: integerField(hc.retries, [...path, 'retries'], ctx, { min: 0 }) ?? healthcheckDefaults.retries,
    startPeriodMs: durationField(hc.start_period, [...path, 'start_period'], ctx) ?? healthcheckDefaults.startPeriodMs,
    ...(startIntervalMs === undefined ? {} : { startIntervalMs }),
    disable,
  };
}
