/** Client ids key the session table (exactly-once retries), so they are checked before use. */
export const MAX_CLIENT_ID_LENGTH = 256;

/** Why `clientId` is not a usable client id, or undefined when it is. */
export function clientIdProblem(clientId: unknown): string | undefined {
  if (typeof clientId !== 'string') return `client id must be a string, got ${typeof clientId}`;
  if (clientId.length === 0 || clientId.length > MAX_CLIENT_ID_LENGTH) return `client id must be 1..${MAX_CLIENT_ID_LENGTH} characters, got ${clientId.length}`;
  // Control characters would garble logs and error messages that name the client.
  if (/\p{Cc}/u.test(clientId)) return 'client id must not contain control characters';
  return undefined;
}
