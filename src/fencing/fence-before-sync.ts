/**
 * A restarted cluster daemon's first act on its engine (issue 7 items 3 and 5): stop the
 * at-most-once replicas the previous process left running. Until this member has caught up with
 * the cluster log its agent does not run (it would act on a state older than what it ran), so
 * nothing renews or checks a lease meanwhile; cut off from the managers it may wait for ever
 * while the leader, past the lease, places the replica elsewhere. The containers' own label says
 * which ones (the state that would say so is not there yet). The agent starts them again once
 * its lease holds, as after any lapse.
 */
import type { Logger } from 'pino';
import { LABEL_AT_MOST_ONCE, nodeSelector, normalizeName } from '../agent/labels.ts';
import type { ContainerRuntime } from '../seams/container-runtime.ts';

/** Returns the names of the containers it stopped. */
export async function stopAtMostOnceBeforeSync(runtime: ContainerRuntime, nodeId: string, logger: Logger): Promise<string[]> {
  const stopped: string[] = [];
  let listed;
  try {
    listed = await runtime.list(nodeSelector(nodeId));
  } catch (error) {
    // An engine that cannot list runs nothing we could stop now; the agent fences once it answers.
    logger.warn({ err: error }, 'could not list this node\'s containers to fence its at-most-once replicas at start');
    return stopped;
  }
  for (const container of listed) {
    const graceText = container.labels[LABEL_AT_MOST_ONCE];
    if (graceText === undefined || container.state !== 'running') continue;
    const grace = Number(graceText);
    try {
      await runtime.stop(container.id, Number.isFinite(grace) && grace >= 0 ? grace : 10_000);
      stopped.push(normalizeName(container.name));
    } catch (error) {
      logger.warn({ err: error, container: normalizeName(container.name) }, 'could not stop an at-most-once replica at start');
    }
  }
  if (stopped.length > 0) logger.warn({ code: 'fenced_at_start', containers: stopped }, 'stopped at-most-once replicas left running by the previous daemon until this node holds a lease again');
  return stopped;
}
