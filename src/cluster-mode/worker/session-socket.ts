/**
 * The worker session's socket seam: what the session client and server use of a WebSocket, so
 * the daemon runs them on `ws` (below) and the simulator runs the same code on its own network
 * (src/sim/sim-session-link.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, type RawData, type WebSocketServer } from 'ws';
import { MAX_SESSION_FRAME_BYTES } from './session-protocol.ts';

export interface SessionSocket {
  isOpen(): boolean;
  /** Bytes queued for sending and not yet on the wire. */
  bufferedBytes(): number;
  send(text: string): void;
  close(code: number, reason: string): void;
  /** Drops the connection at once (no closing handshake). */
  terminate(): void;
  /** A text frame; a binary frame (not part of the protocol) arrives as undefined. */
  onMessage(listener: (text: string | undefined) => void): void;
  /** The connection ended, whichever side ended it or however it failed (also after an error). */
  onClose(listener: () => void): void;
  onError(listener: (error: unknown) => void): void;
}

/** Opens a session connection to a manager's cluster port with the worker's signed headers. */
export type SessionDialer = (address: string, path: string, headers: Readonly<Record<string, string>>) => SessionSocket;

/**
 * A manager's decision on a session request from its headers: an HTTP status that refuses it, or
 * the function that takes the opened socket.
 */
export type SessionAdmission = (header: (name: string) => string | undefined) => number | ((socket: SessionSocket) => void);

export function wsSessionSocket(ws: WebSocket): SessionSocket {
  return {
    isOpen: () => ws.readyState === ws.OPEN,
    bufferedBytes: () => ws.bufferedAmount,
    send: (text) => ws.send(text),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    onMessage: (listener) => {
      ws.on('message', (data: RawData, isBinary: boolean) => {
        listener(isBinary ? undefined : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      });
    },
    onClose: (listener) => {
      ws.on('close', () => listener());
    },
    onError: (listener) => {
      ws.on('error', (error) => listener(error));
    },
  };
}

/** The daemon's dialer: a WebSocket over TCP; a refused upgrade is an error, then a close. */
export const dialWsSession: SessionDialer = (address, path, headers) => {
  const ws = new WebSocket(`ws://${address}${path}`, { headers: { ...headers }, maxPayload: MAX_SESSION_FRAME_BYTES, perMessageDeflate: false, handshakeTimeout: 10_000 });
  const socket = wsSessionSocket(ws);
  ws.on('unexpected-response', (_request, response) => {
    ws.emit('error', new Error(`manager answered ${response.statusCode ?? 0}`));
    ws.terminate();
  });
  return socket;
};

/** The cluster port's upgrade handler for one session path, deciding through `admit`. */
export function sessionUpgrade(wss: WebSocketServer, admit: SessionAdmission): (request: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (request, socket, head) => {
    const decision = admit((name) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    });
    if (typeof decision === 'number') {
      socket.end(`HTTP/1.1 ${decision} ${decision === 401 ? 'Unauthorized' : 'Refused'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => decision(wsSessionSocket(ws)));
  };
}
