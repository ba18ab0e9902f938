import type { Socket } from 'node:net';
import { MAX_HANDSHAKE_FRAME_BYTES } from './handshake.ts';

/**
 * Bytes a peer may send, in either direction, before it has proven it holds the cluster secret.
 * An honest peer sends one handshake frame (at most MAX_HANDSHAKE_FRAME_BYTES plus a 14-byte
 * header) and then waits for the answer, so twice that leaves room for a stray control frame and
 * nothing else.
 */
export const MAX_UNAUTHENTICATED_BYTES = 2 * MAX_HANDSHAKE_FRAME_BYTES;

export interface UnauthenticatedInputEvents {
  /** `bytes` were just read from a peer that has not authenticated yet. */
  read(bytes: number): void;
  /** The peer went past the limit; its socket has already been destroyed. */
  exceeded(totalBytes: number): void;
}

/**
 * Counts the bytes read from `socket` and destroys it as soon as the total passes `limit`, until
 * the returned function is called (when the peer authenticates, or the connection closes). Call it
 * once ws reads the socket ('open' / 'connection') and before any bytes reach ws: a 'data' listener
 * added earlier starts the flow on its own and would take the first bytes from ws.
 *
 * Why on the TCP socket rather than with ws's maxPayload: ws fixes maxPayload when the WebSocket
 * is made, before we know who is on the other end, and an authenticated member needs a large limit
 * (an InstallSnapshot carries the whole snapshot in one frame, see src/raft/messages.ts). ws buffers
 * a frame until it is complete, so a stranger could otherwise make us hold up to maxPayload per
 * pending connection. Counting what the socket hands to ws bounds every kind of pre-auth input at
 * once (one large frame, many fragments, a flood of pings) using only public Node APIs: nothing ws
 * does internally can buffer more than it was given. At most `limit` plus the one read that crossed
 * it (≤ 64 KiB) is ever in memory, and only until this same tick destroys the socket. The other
 * designs were worse: raising ws's private `_receiver._maxPayload` after the handshake breaks
 * silently on a ws upgrade, and moving the handshake into the HTTP upgrade needs an extra round
 * trip for the server nonce and a new wire protocol that older members cannot speak.
 */
export function limitUnauthenticatedInput(socket: Socket, limit: number, events: UnauthenticatedInputEvents): () => void {
  let total = 0;
  let released = false;
  const onData = (chunk: Buffer): void => {
    // emit() still calls a listener removed while the same chunk is being delivered (ws may have
    // authenticated the peer from this very chunk), so the flag, not off(), is what stops counting.
    if (released) return;
    total += chunk.length;
    events.read(chunk.length);
    if (total <= limit) return;
    release();
    socket.destroy();
    events.exceeded(total);
  };
  const release = (): void => {
    released = true;
    socket.off('data', onData);
  };
  socket.on('data', onData);
  return release;
}
