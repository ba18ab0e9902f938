import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { MemoryRestartLedger, type RestartLedger } from '../seams/restart-ledger.ts';

export const RESTART_LEDGER_FILE = 'restarts.json';

interface LedgerFile {
  readonly version: 1;
  readonly restarts: Record<string, number>;
}

/**
 * The restart ledger in `<dataDir>/restarts.json`. Every change schedules one write of the whole
 * (small) map — a temporary file, fsync, rename — coalesced while a write is in flight, so a
 * crash loop costs at most one write per restart delay. A count lost to a crash between a restart
 * and its write is off by one; nothing else depends on it, so it is not worth an fsync before the
 * restart. An unreadable file is reported and replaced: counts are information, not state.
 */
export class FileRestartLedger implements RestartLedger {
  private readonly memory = new MemoryRestartLedger();
  private writing: Promise<void> | undefined;
  private dirty = false;

  private constructor(private readonly path: string, private readonly logger: Logger) {}

  static async open(dataDir: string, logger: Logger): Promise<FileRestartLedger> {
    const ledger = new FileRestartLedger(join(dataDir, RESTART_LEDGER_FILE), logger);
    let text: string | undefined;
    try {
      text = await readFile(ledger.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ file: ledger.path, error: (error as Error).message }, 'restart counts unreadable; counting from 0');
    }
    if (text !== undefined) {
      try {
        const parsed = JSON.parse(text) as LedgerFile;
        if (parsed.version !== 1 || typeof parsed.restarts !== 'object' || parsed.restarts === null) throw new Error('not a version 1 ledger');
        for (const [id, count] of Object.entries(parsed.restarts)) {
          if (Number.isSafeInteger(count) && count > 0) ledger.memory.record(id, count);
        }
      } catch (error) {
        logger.warn({ file: ledger.path, error: (error as Error).message }, 'restart counts unreadable; counting from 0');
      }
    }
    return ledger;
  }

  restartsOf(containerId: string): number {
    return this.memory.restartsOf(containerId);
  }

  record(containerId: string, restarts: number): void {
    if (this.memory.restartsOf(containerId) === restarts) return;
    this.memory.record(containerId, restarts);
    this.scheduleWrite();
  }

  forget(containerId: string): void {
    if (!this.memory.counts.has(containerId)) return;
    this.memory.forget(containerId);
    this.scheduleWrite();
  }

  retainOnly(containerIds: ReadonlySet<string>): void {
    const before = this.memory.counts.size;
    this.memory.retainOnly(containerIds);
    if (this.memory.counts.size !== before) this.scheduleWrite();
  }

  /** Resolves once everything recorded so far is on disk (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  private scheduleWrite(): void {
    this.dirty = true;
    if (this.writing !== undefined) return;
    this.writing = (async () => {
      while (this.dirty) {
        this.dirty = false;
        try {
          await this.writeFile();
        } catch (error) {
          this.logger.warn({ file: this.path, error: (error as Error).message }, 'could not save restart counts; they will be saved with the next change');
        }
      }
      this.writing = undefined;
    })();
  }

  private async writeFile(): Promise<void> {
    const body: LedgerFile = { version: 1, restarts: Object.fromEntries(this.memory.counts) };
    const temporary = `${this.path}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(body)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
  }
}
