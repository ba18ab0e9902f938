/**
 * A linearizability checker for a key/value register: Wing & Gong's search (try every operation
 * that could go next, backtrack on failure) with Lowe's memoization (never revisit the same
 * (set of linearized operations, model state) pair), run per key — a history of independent
 * registers is linearizable iff each key's sub-history is (Herlihy & Wing's locality, which
 * Horn & Kroening call P-compositionality). Per-key search keeps the exponential part small.
 *
 * Time is any totally ordered number (the simulator uses a global event counter). Operation A
 * precedes B in real time iff A.returnAt < B.invokeAt; equal stamps count as concurrent.
 *
 * An operation without a response (the client crashed or gave up) may have taken effect at any
 * point after its invocation, or never. Giving it a response time of +∞ and no observed output
 * covers both: "never" is indistinguishable from "after everything else".
 */

export type KvInput =
  | { readonly kind: 'put'; readonly value: string }
  | { readonly kind: 'get' }
  | { readonly kind: 'delete' };

export interface KvOperation {
  readonly id: number;
  readonly clientId: string;
  readonly key: string;
  readonly input: KvInput;
  /**
   * What the client observed: for get the value read, for put/delete the previous value (the
   * state machine returns it). `undefined` value means the key was absent. Leave `output`
   * undefined when nothing was observed (no response, or a put whose previous value is unknown).
   */
  readonly output?: { readonly value: string | undefined };
  readonly invokeAt: number;
  /** Undefined when the operation never returned. */
  readonly returnAt?: number;
}

export type LinearizabilityResult =
  | { readonly ok: true; readonly keysChecked: number; readonly steps: number }
  | {
      readonly ok: false;
      readonly key: string;
      /** The longest order of operations on that key the search could justify. */
      readonly longestPrefix: readonly KvOperation[];
      /** Completed operations the longest attempt could not place. */
      readonly unplaced: readonly KvOperation[];
      readonly message: string;
    }
  | { readonly ok: 'unknown'; readonly key: string; readonly message: string };

export interface CheckOptions {
  /** Search step budget per key; exceeding it yields ok: 'unknown' rather than hanging. */
  readonly maxStepsPerKey?: number;
}

type RegisterState = string | undefined;

function stepModel(state: RegisterState, op: KvOperation): { ok: boolean; next: RegisterState } {
  const observedOk = op.output === undefined || op.output.value === state;
  switch (op.input.kind) {
    case 'get':
      return { ok: observedOk, next: state };
    case 'put':
      return { ok: observedOk, next: op.input.value };
    case 'delete':
      return { ok: observedOk, next: undefined };
  }
}

interface ListEntry {
  readonly op: KvOperation;
  readonly bit: number;
  readonly isCall: boolean;
  readonly time: number;
  /** The call's return entry (calls only). */
  match: ListEntry | undefined;
  prev: ListEntry | undefined;
  next: ListEntry | undefined;
}

export class LinearizabilityInputError extends Error {
  readonly code = 'lin_bad_history';
  constructor(message: string) {
    super(message);
    this.name = 'LinearizabilityInputError';
  }
}

function validate(history: readonly KvOperation[]): void {
  const ids = new Set<number>();
  for (const op of history) {
    if (ids.has(op.id)) throw new LinearizabilityInputError(`operation id ${op.id} appears twice`);
    ids.add(op.id);
    if (op.returnAt !== undefined && op.returnAt < op.invokeAt) {
      throw new LinearizabilityInputError(`operation ${op.id} (${describe(op)}) returns at ${op.returnAt} before its invocation at ${op.invokeAt}`);
    }
  }
}

export function describe(op: KvOperation): string {
  const out = op.output === undefined ? '?' : JSON.stringify(op.output.value ?? null);
  const input = op.input.kind === 'put' ? `put(${op.key}, ${JSON.stringify(op.input.value)})` : `${op.input.kind}(${op.key})`;
  const span = `[${op.invokeAt}, ${op.returnAt ?? '∞'}]`;
  return `#${op.id} ${op.clientId} ${input} → ${out} ${span}`;
}

/** Checks a whole history, key by key. */
export function checkLinearizable(history: readonly KvOperation[], options: CheckOptions = {}): LinearizabilityResult {
  validate(history);
  const byKey = new Map<string, KvOperation[]>();
  for (const op of history) {
    const list = byKey.get(op.key);
    if (list) list.push(op);
    else byKey.set(op.key, [op]);
  }
  let steps = 0;
  for (const key of [...byKey.keys()].sort()) {
    const result = checkKey(key, byKey.get(key)!, options.maxStepsPerKey ?? 5_000_000);
    if (result.ok !== true) return result;
    steps += result.steps;
  }
  return { ok: true, keysChecked: byKey.size, steps };
}

function checkKey(key: string, ops: readonly KvOperation[], maxSteps: number): LinearizabilityResult {
  // Build the time-ordered entry list: calls before returns at equal time (concurrent), pending
  // returns at +∞.
  const entries: ListEntry[] = [];
  ops.forEach((op, bit) => {
    const call: ListEntry = { op, bit, isCall: true, time: op.invokeAt, match: undefined, prev: undefined, next: undefined };
    const ret: ListEntry = { op, bit, isCall: false, time: op.returnAt ?? Infinity, match: undefined, prev: undefined, next: undefined };
    call.match = ret;
    entries.push(call, ret);
  });
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op.id - b.op.id : a.isCall ? -1 : 1));
  const head: ListEntry = { op: ops[0]!, bit: -1, isCall: false, time: -Infinity, match: undefined, prev: undefined, next: undefined };
  let tail = head;
  for (const entry of entries) {
    tail.next = entry;
    entry.prev = tail;
    tail = entry;
  }

  const lift = (entry: ListEntry): void => {
    entry.prev!.next = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    const match = entry.match!;
    match.prev!.next = match.next;
    if (match.next) match.next.prev = match.prev;
  };
  const unlift = (entry: ListEntry): void => {
    const match = entry.match!;
    match.prev!.next = match;
    if (match.next) match.next.prev = match;
    entry.prev!.next = entry;
    if (entry.next) entry.next.prev = entry;
  };

  const words = new Uint32Array(Math.ceil(ops.length / 32));
  const flip = (bit: number): void => {
    words[bit >>> 5]! ^= 1 << (bit & 31);
  };
  const cacheKey = (state: RegisterState): string => `${words.join(',')}|${state === undefined ? '-' : `=${state}`}`;

  const seen = new Set<string>();
  const stack: { entry: ListEntry; state: RegisterState }[] = [];
  let state: RegisterState = undefined;
  let remaining = ops.filter((op) => op.returnAt !== undefined).length;
  let best: KvOperation[] = [];
  let entry = head.next;
  let steps = 0;

  while (true) {
    if (remaining === 0) return { ok: true, keysChecked: 1, steps };
    if (++steps > maxSteps) {
      return { ok: 'unknown', key, message: `key "${key}": gave up after ${maxSteps} search steps (${ops.length} operations)` };
    }
    if (entry && entry.isCall) {
      const result = stepModel(state, entry.op);
      if (result.ok) {
        flip(entry.bit);
        const memo = cacheKey(result.next);
        if (!seen.has(memo)) {
          seen.add(memo);
          stack.push({ entry, state });
          state = result.next;
          lift(entry);
          if (entry.op.returnAt !== undefined) remaining--;
          if (stack.length > best.length) best = stack.map((s) => s.entry.op);
          entry = head.next;
          continue;
        }
        flip(entry.bit);
      }
      entry = entry.next;
      continue;
    }
    // A return (or the end of the list): some operation had to be linearized before this point
    // and none could be — undo the last choice.
    const top = stack.pop();
    if (!top) {
      const placed = new Set(best.map((op) => op.id));
      const unplaced = ops.filter((op) => !placed.has(op.id) && op.returnAt !== undefined);
      const message = [
        `key "${key}" is not linearizable (${ops.length} operations).`,
        `Longest justified order: ${best.map(describe).join('; ') || '(none)'}.`,
        `Could not place: ${unplaced.map(describe).join('; ')}.`,
      ].join(' ');
      return { ok: false, key, longestPrefix: best, unplaced, message };
    }
    state = top.state;
    flip(top.entry.bit);
    unlift(top.entry);
    if (top.entry.op.returnAt !== undefined) remaining++;
    entry = top.entry.next;
  }
}
