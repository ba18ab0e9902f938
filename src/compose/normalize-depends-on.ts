/**
 * `depends_on:` list or map → { service: { condition, required, restart } }.
 * The list form means condition service_started, required true, restart false (Compose defaults).
 * Whether the named services exist is checked later, with the whole stack in view.
 */
import type { NormalizeContext } from './normalize-context.ts';
import type { ServiceSpec, DependsOnCondition } from './types.ts';

type DependsOn = ServiceSpec['dependsOn'];

export function normalizeDependsOn(raw: unknown, _ctx: NormalizeContext): DependsOn {
  const out: Record<string, DependsOn[string]> = {};
  if (Array.isArray(raw)) {
    for (const name of raw) out[String(name)] = { condition: 'service_started', required: true, restart: false };
  } else if (raw !== null && typeof raw === 'object') {
    for (const [name, value] of Object.entries(raw as Record<string, Record<string, unknown>>)) {
      out[name] = {
        condition: (value.condition as DependsOnCondition | undefined) ?? 'service_started',
        required: value.required !== false,
        restart: value.restart === true || value.restart === 'true',
      };
    }
  }
  return out;
}
