import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';
import type { DeploySpec, HealthcheckSpec, UpdateConfigSpec } from './types.ts';

/**
 * How long a healthcheck may take to call a replica unhealthy: the start period plus `retries`
 * failed checks `interval` apart. Undefined without a healthcheck of the file's own.
 */
export function healthcheckWindowMs(healthcheck: HealthcheckSpec | undefined): number | undefined {
  if (!healthcheck || healthcheck.disable || healthcheck.test[0] === 'NONE') return undefined;
  return healthcheck.startPeriodMs + healthcheck.intervalMs * healthcheck.retries;
}

/**
 * A rollout that monitors a replica for less than its healthcheck's window calls it updated before
 * the healthcheck could fail it — Swarm's "completed" rollouts whose tasks then restart-loop. The
 * monitor is raised to the window, and a warning says so (only when the file set a monitor, or
 * the default is what is too short).
 */
export function raiseMonitorToHealthWindow(deploy: DeploySpec, healthcheck: HealthcheckSpec | undefined, ctx: NormalizeContext): DeploySpec {
  const windowMs = healthcheckWindowMs(healthcheck);
  if (windowMs === undefined) return deploy;
  const raised = (['update_config', 'rollback_config'] as const).filter((key) => (key === 'update_config' ? deploy.updateConfig : deploy.rollbackConfig).monitorMs < windowMs);
  if (raised.length === 0) return deploy;
  const raise = (config: UpdateConfigSpec): UpdateConfigSpec => (config.monitorMs >= windowMs ? config : { ...config, monitorMs: windowMs });
  const shortest = Math.min(deploy.updateConfig.monitorMs, deploy.rollbackConfig.monitorMs);
  ctx.sink.warning([...ctx.servicePath, 'deploy', raised[0]!, 'monitor'], composeCodes.monitorRaised,
    `${raised.map((key) => `${key}.monitor`).join(' and ')} (${seconds(shortest)}) shorter than the healthcheck's window (start_period + interval × retries = ${seconds(windowMs)}): rollouts monitor each replica for ${seconds(windowMs)}`);
  return { ...deploy, updateConfig: raise(deploy.updateConfig), rollbackConfig: raise(deploy.rollbackConfig) };
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}
