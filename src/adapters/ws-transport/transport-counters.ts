/** What the transport dropped and why; exposed for metrics and asserted by tests. */
export interface TransportCounters {
  /** Raft messages handed to the receiver. */
  delivered: number;
  sent: number;
  /** Frames from an authenticated peer that were not JSON or did not match the schema. */
  droppedMalformed: number;
  /** Frames larger than maxPayload (the connection is closed by ws with 1009). */
  droppedOversized: number;
  /** Frames that arrived before the sender proved it holds the cluster secret. */
  droppedUnauthenticated: number;
  /** Bytes read from peers (either direction) before they authenticated; see unauthenticated-input.ts. */
  unauthenticatedBytesRead: number;
  /** Connections cut because the peer sent more than MAX_UNAUTHENTICATED_BYTES before authenticating. */
  unauthenticatedOverLimit: number;
  /** A valid message whose `from`/`to` does not match the authenticated peer / this member. */
  droppedMisaddressed: number;
  /** Handshakes that failed: bad proof, wrong member id, malformed handshake frame. */
  authFailures: number;
  /** Connections closed because they did not authenticate within authTimeoutMs. */
  authTimeouts: number;
  /** Connections refused because too many others were still handshaking. */
  handshakesRefused: number;
  /** send() to a peer without an open, authenticated connection (Raft retries). */
  sendDroppedNotConnected: number;
  /** send() while the socket's outgoing buffer was over its limit. */
  sendDroppedBackpressure: number;
  inboundAuthenticated: number;
  outboundAuthenticated: number;
  dialAttempts: number;
  /** Errors reported by sockets (after which the connection is closed and redialed). */
  socketErrors: number;
}

export function zeroCounters(): TransportCounters {
  return {
    delivered: 0, sent: 0, droppedMalformed: 0, droppedOversized: 0, droppedUnauthenticated: 0, unauthenticatedBytesRead: 0,
    unauthenticatedOverLimit: 0, droppedMisaddressed: 0,
    authFailures: 0, authTimeouts: 0, handshakesRefused: 0, sendDroppedNotConnected: 0, sendDroppedBackpressure: 0, inboundAuthenticated: 0,
    outboundAuthenticated: 0, dialAttempts: 0, socketErrors: 0,
  };
}
