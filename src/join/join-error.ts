export type JoinErrorCode =
  | 'token_malformed'
  | 'token_checksum_mismatch'
  | 'token_wrong_cluster'
  | 'token_wrong_role'
  | 'token_rotated'
  | 'token_invalid'
  | 'join_proof_malformed'
  | 'join_proof_invalid'
  | 'seal_malformed'
  | 'seal_invalid';

/** Every refusal of a join carries a code the caller (CLI, API, transport) can branch on. */
export class JoinError extends Error {
  constructor(
    readonly code: JoinErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'JoinError';
  }
}
