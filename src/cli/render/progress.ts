import type { ServiceRow } from '../../api/service-rows.ts';

const spinnerFrames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function describe(row: ServiceRow): string {
  // Without a healthcheck nothing is known beyond running: no "healthy" count at all.
  const health = row.healthcheck ? `, ${row.healthy} healthy` : '';
  const message = row.message ? ` — ${row.message}` : '';
  return `${row.running}/${row.desiredReplicas} running${health}${message}`;
}

function stateOf(row: ServiceRow): string {
  return row.failed ? 'failed' : row.converged ? 'converged' : 'converging';
}

/**
 * Shows deploy progress per service. On a terminal: one line per service with a spinner,
 * redrawn in place. Otherwise (logs, CI, tests): a plain line whenever a service changes.
 */
export class ProgressDisplay {
  private frame = 0;
  private drawnLines = 0;
  private readonly lastPlain = new Map<string, string>();

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean }) {}

  get interactive(): boolean {
    return this.out.isTTY === true;
  }

  update(rows: readonly ServiceRow[]): void {
    if (this.interactive) this.redraw(rows);
    else this.printChanges(rows);
  }

  /** Leaves the final state on screen. */
  finish(rows: readonly ServiceRow[]): void {
    if (this.interactive) this.redraw(rows);
    else this.printChanges(rows);
  }

  private redraw(rows: readonly ServiceRow[]): void {
    this.frame = (this.frame + 1) % spinnerFrames.length;
    const width = Math.max(0, ...rows.map((row) => row.service.length));
    const lines = rows.map((row) => {
      const mark = row.failed ? '\u001b[31m✖\u001b[0m' : row.converged ? '\u001b[32m✔\u001b[0m' : spinnerFrames[this.frame];
      return `${mark} ${row.service.padEnd(width)}  ${describe(row)}`;
    });
    let text = '';
    if (this.drawnLines > 0) text += `\u001b[${this.drawnLines}A`;
    for (const line of lines) text += `\u001b[2K${line}\n`;
    // Rows that disappeared since the last frame: clear what is left below.
    for (let extra = lines.length; extra < this.drawnLines; extra += 1) text += '\u001b[2K\n';
    this.out.write(text);
    this.drawnLines = Math.max(lines.length, this.drawnLines);
  }

  private printChanges(rows: readonly ServiceRow[]): void {
    for (const row of rows) {
      const line = `${row.service}: ${describe(row)} (${stateOf(row)})`;
      if (this.lastPlain.get(row.id) === line) continue;
      this.lastPlain.set(row.id, line);
      this.out.write(`${line}\n`);
    }
  }
}
