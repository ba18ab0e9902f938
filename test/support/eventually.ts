export interface EventuallyOptions {
  readonly timeoutMs: number;
  /** What we wait for, in words; it names the wait in the timeout error. */
  readonly what: string;
  readonly intervalMs?: number;
}

/**
 * Polls `check` until it holds, for waits where no event can be awaited. It holds when it
 * returns without throwing and its result is not `false`, `null` or `undefined`; the result is
 * returned. On timeout it throws an error naming `what` and the last failure seen.
 */
export async function eventually<T>(check: () => T | Promise<T>, options: EventuallyOptions): Promise<Exclude<T, false | null | undefined>> {
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + options.timeoutMs;
  let last = 'the condition never held';
  while (true) {
    try {
      const result = await check();
      if (result !== false && result !== null && result !== undefined) return result as Exclude<T, false | null | undefined>;
      last = `last result: ${String(result)}`;
    } catch (error) {
      last = `last error: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what} (${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
