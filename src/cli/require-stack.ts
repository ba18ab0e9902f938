import type { ApiClient } from './api-client.ts';

/**
 * A `--stack` filter that matched nothing: an empty table would read as "the stack has no
 * containers", so ask whether the stack exists at all. GET /v1/stacks/:name answers 404 for an
 * unknown one, which the client turns into exit 5, the same as `rm nosuch`.
 */
export async function requireKnownStack(client: ApiClient, stack: string | undefined, matched: number): Promise<void> {
  if (stack === undefined || matched > 0) return;
  await client.get(`/v1/stacks/${encodeURIComponent(stack)}`);
}
