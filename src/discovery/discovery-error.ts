export type DiscoveryErrorCode =
  | 'discovery_unavailable'
  | 'discovery_timeout'
  | 'discovery_http_status'
  | 'discovery_too_large'
  | 'discovery_malformed'
  | 'discovery_not_running'
  | 'seed_malformed'
  | 'seed_duplicate';

/** Every discovery failure says what and where; the caller logs it and keeps its other peers. */
export class DiscoveryError extends Error {
  constructor(
    readonly code: DiscoveryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DiscoveryError';
  }
}
