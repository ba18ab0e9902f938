/**
 * Orders services so each comes after everything it depends on (Kahn's algorithm, ties broken by
 * file order so the result is deterministic), and finds cycles and unknown dependencies.
 */
export interface DependencyProblem {
  readonly kind: 'unknown' | 'cycle';
  readonly service: string;
  /** unknown: the missing service; cycle: the services around the cycle, first one repeated. */
  readonly names: readonly string[];
}

export function dependencyOrder(services: readonly { name: string; dependsOn: readonly string[] }[]):
  { order: string[]; problems: DependencyProblem[] } {
  const known = new Set(services.map((s) => s.name));
  const problems: DependencyProblem[] = [];
  const deps = new Map<string, string[]>();
  for (const service of services) {
    const present: string[] = [];
    for (const dep of service.dependsOn) {
      if (known.has(dep)) present.push(dep);
      else problems.push({ kind: 'unknown', service: service.name, names: [dep] });
    }
    deps.set(service.name, present);
  }
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < services.length) {
    const next = services.find((s) => !placed.has(s.name) && deps.get(s.name)!.every((d) => placed.has(d)));
    if (!next) break;
    order.push(next.name);
    placed.add(next.name);
  }
  if (order.length < services.length) {
    const reported = new Set<string>();
    for (const service of services) {
      if (placed.has(service.name) || reported.has(service.name)) continue;
      const cycle = findCycle(service.name, deps, placed);
      // A service that only waits behind an already reported cycle leads to the same cycle again.
      if (cycle === undefined || cycle.every((name) => reported.has(name))) continue;
      cycle.forEach((name) => reported.add(name));
      problems.push({ kind: 'cycle', service: cycle[0]!, names: cycle });
    }
    // Services that only wait behind a cycle still get an order, so callers can show the whole stack.
    for (const service of services) if (!placed.has(service.name)) order.push(service.name);
  }
  return { order, problems };
}

function findCycle(start: string, deps: ReadonlyMap<string, string[]>, placed: ReadonlySet<string>): string[] | undefined {
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visited = new Set<string>();
  const visit = (name: string): string[] | undefined => {
    if (onStack.has(name)) return [...stack.slice(stack.indexOf(name)), name];
    if (visited.has(name) || placed.has(name)) return undefined;
    visited.add(name);
    stack.push(name);
    onStack.add(name);
    for (const dep of deps.get(name) ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    onStack.delete(name);
    return undefined;
  };
  return visit(start);
}
