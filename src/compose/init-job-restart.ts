/**
 * A service that others wait for with `depends_on: { x: { condition: service_completed_successfully } }`
 * is a job that is meant to finish. Under the orchestrator's default restart policy (`any`) a
 * finished job would be started again forever, re-running a migration or seed on every exit.
 * So when the file sets neither `restart` nor `deploy.restart_policy` on it, its policy becomes
 * `on-failure` (retried when it fails, left alone once it succeeded), with a warning naming it.
 * An explicit policy is kept as written.
 */
import { composeCodes } from './compose-codes.ts';
import type { DiagnosticSink } from './diagnostics.ts';
import type { ServiceSpec } from './types.ts';

export function defaultInitJobRestart(
  services: readonly ServiceSpec[],
  raw: Readonly<Record<string, Record<string, unknown> | null>>,
  sink: DiagnosticSink,
): ServiceSpec[] {
  const waitedOnBy = new Map<string, string[]>();
  for (const s of services) {
    for (const [dep, how] of Object.entries(s.dependsOn)) {
      if (how.condition === 'service_completed_successfully') waitedOnBy.set(dep, [...(waitedOnBy.get(dep) ?? []), s.name]);
    }
  }
  return services.map((s) => {
    const dependants = waitedOnBy.get(s.name);
    if (dependants === undefined) return s;
    const serviceRaw = raw[s.name] ?? {};
    const deploy = serviceRaw.deploy as Record<string, unknown> | null | undefined;
    const explicit = (serviceRaw.restart !== undefined && serviceRaw.restart !== null)
      || (deploy?.restart_policy !== undefined && deploy.restart_policy !== null);
    if (explicit) return s;
    sink.warning(['services', s.name], composeCodes.restartPolicyDefaulted,
      `service "${s.name}" is restarted only on failure: ${dependants.map((d) => `"${d}"`).join(', ')} wait${dependants.length === 1 ? 's' : ''} for it to complete successfully, ` +
      'and the default policy (any) would run it again after every exit; set "restart" or "deploy.restart_policy" to choose otherwise');
    return { ...s, deploy: { ...s.deploy, restartPolicy: { ...s.deploy.restartPolicy, condition: 'on-failure' } } };
  });
}
