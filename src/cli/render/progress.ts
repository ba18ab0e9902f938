import type { ContainerInfo } from '../../api/api-deps.ts';
import type { ServiceRow } from '../../api/service-rows.ts';

const spinnerFrames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** One line of progress: a service and what it is doing. */
export interface ProgressItem {
  readonly id: string;
  readonly label: string;
  readonly text: string;
  readonly state: 'converging' | 'converged' | 'failed' | 'removing' | 'removed';
}

function describe(row: ServiceRow): string {
  // Without a healthcheck nothing is known beyond running: no "healthy" count at all.
  const health = row.healthcheck ? `, ${row.healthy} healthy` : '';
  const removing = (row.removing ?? 0) > 0 ? `, ${row.removing} removing` : '';
  const message = row.message ? ` — ${row.message}` : '';
  return `${row.running}/${row.desiredReplicas} running${health}${removing}${message}`;
}

export function serviceItems(rows: readonly ServiceRow[]): ProgressItem[] {
  return rows.map((row) => ({
    id: row.id,
    label: row.service,
    text: describe(row),
    state: row.failed ? 'failed' : row.converged ? 'converged' : 'converging',
  }));
}

/**
 * Removal progress per service from the containers still there: what each is doing now
 * ("3 left: 2 stopping, 1 removing"), and "removed" once a service's last one is gone. `seen`
 * remembers every service met so far, with how many it had at most, so a finished one stays listed.
 */
export function removalItems(containers: readonly ContainerInfo[], seen: Map<string, number>): ProgressItem[] {
  const byService = new Map<string, ContainerInfo[]>();
  for (const container of containers) byService.set(container.service, [...(byService.get(container.service) ?? []), container]);
  for (const [service, left] of byService) seen.set(service, Math.max(seen.get(service) ?? 0, left.length));
  return [...seen.keys()].sort().map((service) => {
    const left = byService.get(service) ?? [];
    if (left.length === 0) return { id: service, label: service, text: `all ${seen.get(service)} removed`, state: 'removed' as const };
    const phases = new Map<string, number>();
    for (const container of left) phases.set(container.state, (phases.get(container.state) ?? 0) + 1);
    const detail = [...phases].sort(([a], [b]) => (a < b ? -1 : 1)).map(([phase, count]) => `${count} ${phase}`).join(', ');
    return { id: service, label: service, text: `${left.length} of ${seen.get(service)} left: ${detail}`, state: 'removing' as const };
  });
}

const doneStates = new Set<ProgressItem['state']>(['converged', 'removed']);

/**
 * Shows progress per service. On a terminal: one line per service with a spinner, redrawn in
 * place. Otherwise (logs, CI, tests): a plain line whenever a service changes.
 */
export class ProgressDisplay {
  private frame = 0;
  private drawnLines = 0;
  private readonly lastPlain = new Map<string, string>();

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean }) {}

  get interactive(): boolean {
    return this.out.isTTY === true;
  }

  /** Deploy progress: service rows as the API gives them. */
  update(rows: readonly ServiceRow[]): void {
    this.show(serviceItems(rows));
  }

  /** Leaves the final state on screen. */
  finish(rows: readonly ServiceRow[]): void {
    this.show(serviceItems(rows));
  }

  show(items: readonly ProgressItem[]): void {
    if (this.interactive) this.redraw(items);
    else this.printChanges(items);
  }

  private redraw(items: readonly ProgressItem[]): void {
    this.frame = (this.frame + 1) % spinnerFrames.length;
    const width = Math.max(0, ...items.map((item) => item.label.length));
    const lines = items.map((item) => {
      const mark = item.state === 'failed' ? '\u001b[31m✖\u001b[0m' : doneStates.has(item.state) ? '\u001b[32m✔\u001b[0m' : spinnerFrames[this.frame];
      return `${mark} ${item.label.padEnd(width)}  ${item.text}`;
    });
    let text = '';
    if (this.drawnLines > 0) text += `\u001b[${this.drawnLines}A`;
    for (const line of lines) text += `\u001b[2K${line}\n`;
    // Rows that disappeared since the last frame: clear what is left below.
    for (let extra = lines.length; extra < this.drawnLines; extra += 1) text += '\u001b[2K\n';
    this.out.write(text);
    this.drawnLines = Math.max(lines.length, this.drawnLines);
  }

  private printChanges(items: readonly ProgressItem[]): void {
    for (const item of items) {
      const line = `${item.label}: ${item.text} (${item.state})`;
      if (this.lastPlain.get(item.id) === line) continue;
      this.lastPlain.set(item.id, line);
      this.out.write(`${line}\n`);
    }
  }
}
