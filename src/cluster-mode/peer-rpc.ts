import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { PEER_AUTH_HEADER, signPeerRequest, verifyPeerRequest } from './peer-auth.ts';

/** Largest RPC body (a forwarded deploy carries a whole stack spec, capped at 4 MiB by the API). */
const MAX_RPC_BODY_BYTES = 8 * 1024 * 1024;

export class PeerRpcError extends Error {
  constructor(readonly code: string, message: string, readonly status = 500) {
    super(message);
    this.name = 'PeerRpcError';
  }
}

/**
 * A route answers with a JSON value or throws PeerRpcError. `auth` says how it authenticates:
 * the cluster secret (managers), a worker's own key (the caller's node id is then passed to the
 * handler), or nothing (joining).
 */
export interface PeerRoute {
  readonly auth: 'cluster-secret' | 'worker' | 'none';
  handle(body: unknown, caller?: string): Promise<unknown>;
}

/** On worker routes: which node signs the request (its key is derived for that id). */
export const PEER_NODE_HEADER = 'x-constellation-node';

export interface PeerRpcServerOptions {
  readonly secret: () => string | undefined;
  /** The key a worker signs with (src/cluster-mode/worker/worker-key.ts); absent on a worker. */
  readonly workerKey?: (nodeId: string) => string | undefined;
  readonly logger: Logger;
  /** Prototype-free: a path like /__proto__ finds nothing. */
  readonly routes: Readonly<Record<string, PeerRoute>>;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RPC_BODY_BYTES) {
        reject(new PeerRpcError('body_too_large', `peer RPC body exceeds ${MAX_RPC_BODY_BYTES} bytes`, 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * The HTTP side of the cluster port: POST /cluster/<name> with a JSON body. Every route but the
 * join route requires the cluster secret's HMAC; nothing is parsed before it is checked.
 */
export function createPeerRpcHandler(options: PeerRpcServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const route = options.routes[path];
      if (req.method !== 'POST' || !route) throw new PeerRpcError('not_found', `no peer RPC ${req.method ?? ''} ${path}`, 404);
      const text = await readBody(req);
      let caller: string | undefined;
      if (route.auth !== 'none') {
        const nodeHeader = req.headers[PEER_NODE_HEADER];
        caller = route.auth === 'worker' ? (Array.isArray(nodeHeader) ? nodeHeader[0] : nodeHeader) : undefined;
        const secret = route.auth === 'worker' ? (caller === undefined ? undefined : options.workerKey?.(caller)) : options.secret();
        if (!secret) throw new PeerRpcError(route.auth === 'worker' ? 'peer_unauthenticated' : 'not_in_cluster', route.auth === 'worker' ? 'peer request refused: no worker key for the named node' : 'this node has not joined a cluster yet', route.auth === 'worker' ? 401 : 503);
        const header = req.headers[PEER_AUTH_HEADER];
        const problem = verifyPeerRequest(secret, Date.now(), Array.isArray(header) ? header[0] : header, 'POST', path, text);
        if (problem) throw new PeerRpcError('peer_unauthenticated', `peer request refused: authentication ${problem}`, 401);
      }
      let body: unknown;
      try {
        body = text === '' ? {} : JSON.parse(text);
      } catch {
        throw new PeerRpcError('invalid_json', 'peer RPC body is not JSON', 400);
      }
      reply(res, 200, await route.handle(body, caller));
    })().catch((error: unknown) => {
      const rpcError = error instanceof PeerRpcError ? error : new PeerRpcError('internal_error', error instanceof Error ? error.message : String(error));
      if (rpcError.status >= 500) options.logger.warn({ err: error }, 'peer RPC failed');
      if (!res.headersSent) reply(res, rpcError.status, { error: { code: rpcError.code, message: rpcError.message } });
      else res.destroy();
    });
  };
}

/**
 * Calls a peer's RPC; rejects with PeerRpcError (the peer's code, or `peer_unreachable`). Requests
 * are signed with wall-clock time (the injected Clock is monotonic, and the two ends' monotonic
 * clocks share no origin).
 */
export async function callPeer<T>(address: string, path: string, body: unknown, auth: { secret?: string; nodeId?: string }, timeoutMs = 10_000): Promise<T> {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth.secret) headers[PEER_AUTH_HEADER] = signPeerRequest(auth.secret, Date.now(), 'POST', path, text);
  if (auth.nodeId !== undefined) headers[PEER_NODE_HEADER] = auth.nodeId;
  let response: Response;
  try {
    response = await fetch(`http://${address}${path}`, { method: 'POST', headers, body: text, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new PeerRpcError('peer_unreachable', `cannot reach ${address}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`, 503);
  }
  const answer = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  if (!response.ok) {
    throw new PeerRpcError(answer?.error?.code ?? 'peer_error', answer?.error?.message ?? `${address}${path} answered ${response.status}`, response.status);
  }
  return answer as T;
}
