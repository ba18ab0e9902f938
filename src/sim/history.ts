import type { KvInput, KvOperation } from './linearizability.ts';

interface OpenOperation {
  readonly id: number;
  readonly clientId: string;
  readonly key: string;
  readonly input: KvInput;
  readonly invokeAt: number;
  output?: { value: string | undefined };
  returnAt?: number;
}

/**
 * Records client operations for the linearizability check. Stamps come from one counter that
 * increases at every invoke and response, so their order IS the real-time order of the single
 * event loop (virtual milliseconds would tie for events in the same instant).
 */
export class HistoryRecorder {
  private stamp = 0;
  private readonly ops: OpenOperation[] = [];
  /** Operations that got an unexpected error result (they are kept as "no response"). */
  readonly anomalies: string[] = [];

  invoke(clientId: string, key: string, input: KvInput): OpenOperation {
    const op: OpenOperation = { id: this.ops.length, clientId, key, input, invokeAt: ++this.stamp };
    this.ops.push(op);
    return op;
  }

  respond(op: OpenOperation, value: string | undefined): void {
    op.output = { value };
    op.returnAt = ++this.stamp;
  }

  /** The operation answered with an error: whether it took effect is unknown. */
  anomaly(op: OpenOperation, reason: string): void {
    this.anomalies.push(`#${op.id} ${op.clientId} ${op.input.kind}(${op.key}): ${reason}`);
  }

  operations(): KvOperation[] {
    return this.ops.map((op) => ({
      id: op.id,
      clientId: op.clientId,
      key: op.key,
      input: op.input,
      invokeAt: op.invokeAt,
      ...(op.returnAt === undefined ? {} : { returnAt: op.returnAt, output: op.output! }),
    }));
  }

  counts(): { total: number; completed: number } {
    return { total: this.ops.length, completed: this.ops.filter((op) => op.returnAt !== undefined).length };
  }
}
