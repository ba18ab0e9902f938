export interface WaitUntilOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly interrupted?: Promise<void>;
}

/**
 * Polls `check` until it returns a value (the outcome), the deadline passes ('timeout') or the
 * user interrupts ('interrupted'). The API has no change stream yet, so polling is the event.
 */
export async function waitUntil<T extends string>(check: () => Promise<T | undefined>, options: WaitUntilOptions): Promise<T | 'timeout' | 'interrupted'> {
  const deadline = Date.now() + options.timeoutMs;
  let interrupted = false;
  void options.interrupted?.then(() => { interrupted = true; });
  let wake: (() => void) | undefined;
  void options.interrupted?.then(() => wake?.());
  while (true) {
    const outcome = await check();
    if (outcome !== undefined) return outcome;
    if (interrupted) return 'interrupted';
    if (Date.now() >= deadline) return 'timeout';
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, Math.min(options.intervalMs, Math.max(0, deadline - Date.now())));
    });
    if (interrupted) return 'interrupted';
  }
}
