import { WalError } from './wal-errors.ts';

interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function waiter(): Waiter {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Group commit: at most one flush (write + fsync) runs at a time. A caller arriving while one
 * runs waits for the next flush, which covers everything written in the meantime, so any number
 * of concurrent callers share one fsync. After a failed fsync the page cache can no longer be
 * trusted, so every later request fails too (the member must restart and reload from disk).
 */
export class GroupCommit {
  private running: Promise<void> | undefined;
  private next: Waiter | undefined;
  private failure: unknown;

  constructor(
    private readonly flush: () => Promise<void>,
    private readonly hasPendingWrites: () => boolean,
  ) {}

  request(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.poisoned());
    if (!this.running) return this.hasPendingWrites() ? this.start() : Promise.resolve();
    // Writes issued before this call were either taken by the running flush or are pending.
    if (!this.hasPendingWrites()) return this.running;
    this.next ??= waiter();
    return this.next.promise;
  }

  /** Resolves once no flush is running or queued. */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  private poisoned(): WalError {
    return new WalError('WAL_SYNC_FAILED', 'an earlier WAL write or fsync failed; storage is unusable until the member restarts', undefined, undefined, { cause: this.failure });
  }

  private start(): Promise<void> {
    const run = this.flush().then(
      () => this.finished(undefined),
      (error: unknown) => {
        this.failure = error;
        this.finished(error);
        throw error;
      },
    );
    this.running = run;
    return run;
  }

  private finished(error: unknown): void {
    this.running = undefined;
    const queued = this.next;
    this.next = undefined;
    if (!queued) return;
    if (error !== undefined) {
      queued.reject(this.poisoned());
      return;
    }
    this.start().then(queued.resolve, queued.reject);
  }
}
