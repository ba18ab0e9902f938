/**
 * The one line a user sees when the daemon starts without a Docker engine: where it looked, the
 * engine's own reason once (not the wrapped message plus its cause), and what to do. No stack
 * trace: nothing is broken in the daemon, the engine is simply not there yet.
 */
export function engineUnreachableMessage(dockerHost: string, error: unknown): string {
  return `docker engine not reachable at ${dockerHost} (${rootReason(error)}): start Docker there, or point docker.host in the config, --docker-host or DOCKER_HOST at a running engine; the daemon keeps retrying and accepts deploys meanwhile`;
}

/** The innermost cause's message: "connect ENOENT /var/run/docker.sock", not every wrapper around it. */
function rootReason(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  if (current instanceof Error) return current.message;
  return String(current);
}
