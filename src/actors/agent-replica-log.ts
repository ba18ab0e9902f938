import type { Logger } from 'pino';
import type { DesiredService } from '../agent/desired.ts';
import { type ChildEntry, serviceStatuses } from './agent-children.ts';
import type { NodeAgentContext } from './node-agent-types.ts';

/**
 * What an operator must hear about without asking: a replica that crashed, an image that could
 * not be pulled, a replica that turned unhealthy, a replica or a service that gave up. Each line
 * names stack, service and slot; the reason says why, and for a restart, when.
 */
export function logReplicaChange(logger: Logger, context: NodeAgentContext, before: ChildEntry, after: ChildEntry, children: Record<string, ChildEntry>, willRestart: boolean): void {
  const where = { stack: after.stack, service: after.service, slot: after.slot, container: after.name };
  if (after.health === 'unhealthy' && before.health !== 'unhealthy') {
    logger.warn({ ...where, restarts: after.restarts }, 'replica unhealthy: its healthcheck failed; stopping it so the restart policy replaces it');
  }
  if (after.phase !== before.phase && !after.removing) {
    const reason = after.message;
    if (after.phase === 'exited') {
      if (reason?.startsWith('image pull failed')) logger.warn({ ...where, reason }, 'image pull failed');
      else if (after.exitCode === 0) logger.info({ ...where, exitCode: 0 }, 'replica exited with code 0');
      else if (after.exitCode !== undefined) logger.warn({ ...where, exitCode: after.exitCode, restarts: after.restarts }, `replica exited with code ${after.exitCode}`);
      else logger.warn({ ...where, reason }, 'replica stopped');
    } else if (after.phase === 'backoff') {
      logger.info({ ...where, restarts: after.restarts, reason }, 'restart scheduled');
    } else if (after.phase === 'failed') {
      logger.error({ ...where, restarts: after.restarts, reason }, 'replica failed and will not be restarted');
    }
  }
  const desired = context.desired.find((d) => d.stack === after.stack && d.service === after.service);
  // An exit the policy restarts is on its way to backoff: not a failed service, even for a moment.
  if (desired !== undefined && !after.removing && !(after.phase === 'exited' && willRestart)) logServiceFailure(logger, context, desired, after, children);
}

/** A service that turned failed with this report: said once, at error, when it happens. */
function logServiceFailure(logger: Logger, context: NodeAgentContext, desired: DesiredService, after: ChildEntry, children: Record<string, ChildEntry>): void {
  const [was] = serviceStatuses([desired], Object.values(context.children), context.waiting);
  const [now] = serviceStatuses([desired], Object.values(children), context.waiting);
  if (now?.failed && !was?.failed) {
    logger.error({ stack: after.stack, service: after.service, slot: after.slot, container: after.name, reason: now.message }, 'service failed');
  }
}
