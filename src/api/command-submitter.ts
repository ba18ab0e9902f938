import type { ClusterCommand, CommandResult } from '../cluster/commands.ts';
import type { ApiDeps } from './api-deps.ts';
import { ApiError } from './api-error.ts';

export type AcceptedResult = Extract<CommandResult, { ok: true }>;

/** HTTP status for the store's refusal codes; anything unknown is a conflict with current state. */
const refusalStatus: Record<string, number> = { stack_not_found: 404, service_not_found: 404, version_not_found: 404 };

/**
 * Submits commands as one client of the state store: a per-process client id plus a sequence
 * number, so the store applies each exactly once even if it sees a retry.
 */
export class CommandSubmitter {
  private seq = 0;

  constructor(private readonly deps: Pick<ApiDeps, 'store' | 'clientId'>) {}

  async submit(command: ClusterCommand): Promise<AcceptedResult> {
    this.seq += 1;
    let result: CommandResult;
    try {
      result = await this.deps.store.submit({ clientId: this.deps.clientId, seq: this.seq, command });
    } catch (error) {
      throw new ApiError(503, 'store_unavailable', `the state store could not persist the change: ${(error as Error).message}`);
    }
    if (!result.ok) throw new ApiError(refusalStatus[result.code] ?? 409, result.code, result.message);
    return result;
  }
}
