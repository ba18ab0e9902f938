/** Codes a caller can branch on; the message always names the file and byte offset. */
export type WalErrorCode =
  | 'WAL_CORRUPT_RECORD'
  | 'WAL_FORMAT_UNSUPPORTED'
  | 'WAL_LOG_GAP'
  | 'WAL_SNAPSHOT_CORRUPT'
  | 'WAL_NOT_LOADED'
  | 'WAL_CLOSED'
  | 'WAL_APPEND_GAP'
  | 'WAL_SYNC_FAILED'
  | 'WAL_LOCKED';

/**
 * A storage failure. Corruption errors are raised by `load()` so that a member refuses to start
 * rather than silently replaying a damaged log; the message says where and what to do.
 */
export class WalError extends Error {
  constructor(
    readonly code: WalErrorCode,
    message: string,
    readonly file?: string,
    readonly offset?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'WalError';
  }
}
