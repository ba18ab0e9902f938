import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { clientIdProblem } from '../cluster/client-id.ts';
import type { ClientRequest, ClusterCommand } from '../cluster/commands.ts';
import { RaftError } from '../raft/errors.ts';
import type { RaftNode } from '../raft/raft-node.ts';
import type { NodeId } from '../seams/transport.ts';

export interface KvHttpApiOptions {
  readonly node: RaftNode;
  /** Client API address of every member, for redirects to the leader. */
  readonly clientPeers: Readonly<Record<NodeId, string>>;
  /** Client id for requests that do not carry x-client-id (fresh per process: a new session). */
  readonly defaultClientId: string;
  /** A request still waiting after this long answers 504 (its outcome is unknown). */
  readonly requestTimeoutMs: number;
  readonly extraStatus: () => Record<string, unknown>;
  readonly logger: Logger;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_KEY_LENGTH = 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, 'body_too_large', `request body exceeds ${MAX_BODY_BYTES} bytes`));
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
 * The member's tiny client API on loopback: PUT/GET/DELETE /kv/:key and GET /status. Writes and
 * linearizable reads (ReadIndex) are served by the leader; a follower redirects (307) to the
 * leader's client address when it knows it, else answers 421 naming the leader, or 503 while
 * there is none. Clients retry on those.
 */
export function createKvHttpServer(options: KvHttpApiOptions): Server {
  const { node, logger } = options;
  let nextSeq = 1;

  const withTimeout = <T>(promise: Promise<T>, what: string): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new HttpError(504, 'timeout', `${what} did not finish within ${options.requestTimeoutMs} ms; its outcome is unknown, retry with the same x-client-id and x-request-seq`)), options.requestTimeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  };

  const clientRequest = (req: IncomingMessage, command: ClusterCommand): ClientRequest => {
    const clientId = req.headers['x-client-id'];
    const seqHeader = req.headers['x-request-seq'];
    if (clientId !== undefined) {
      // Checked here too, so a bad id is refused before it takes a log entry.
      const problem = clientIdProblem(clientId);
      if (problem !== undefined || typeof clientId !== 'string') throw new HttpError(400, 'invalid_client_id', `x-client-id: ${problem ?? 'give it once'}`);
      const seq = Number(seqHeader);
      if (!Number.isSafeInteger(seq) || seq < 1) throw new HttpError(400, 'bad_request_seq', 'x-client-id needs a positive integer x-request-seq');
      return { clientId, seq, command };
    }
    return { clientId: options.defaultClientId, seq: nextSeq++, command };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    if (path === '/status') {
      if (req.method !== 'GET') throw new HttpError(405, 'method_not_allowed', 'GET /status');
      send(res, 200, { ...node.status(), ...options.extraStatus() });
      return;
    }
    const match = /^\/kv\/([^/]+)$/.exec(path);
    if (!match) throw new HttpError(404, 'not_found', `no route ${req.method} ${path}; use /kv/:key or /status`);
    let key: string;
    try {
      key = decodeURIComponent(match[1]!);
    } catch {
      throw new HttpError(400, 'bad_key', 'the key is not valid percent-encoding');
    }
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw new HttpError(400, 'bad_key', `keys are 1..${MAX_KEY_LENGTH} characters`);
    switch (req.method) {
      case 'PUT':
      case 'DELETE': {
        const command: ClusterCommand = req.method === 'PUT' ? { type: 'put', key, value: await readBody(req) } : { type: 'delete', key };
        const result = await withTimeout(node.propose(clientRequest(req, command)), `${req.method} ${key}`);
        if (result.ok) send(res, 200, result);
        else send(res, 409, { error: { code: result.code, message: result.message } });
        return;
      }
      case 'GET': {
        // ?stale=true reads this member's applied state without the ReadIndex round: fast, may lag.
        const stale = new URLSearchParams(query).get('stale') === 'true';
        const index = stale ? node.status().appliedIndex : await withTimeout(node.readIndex(), `GET ${key}`);
        const value = node.state().view().kv[key];
        if (value === undefined) send(res, 404, { error: { code: 'key_not_found', message: `no key "${key}"` }, readIndex: index, stale });
        else send(res, 200, { key, value, readIndex: index, stale });
        return;
      }
      default:
        throw new HttpError(405, 'method_not_allowed', `${req.method} is not supported on /kv/:key (GET, PUT, DELETE)`);
    }
  };

  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof HttpError) {
      send(res, error.status, { error: { code: error.code, message: error.message, ...error.extra } });
      return;
    }
    if (error instanceof RaftError && error.code === 'not_leader') {
      const leaderId = (error as RaftError & { leaderId?: NodeId }).leaderId;
      const leaderAddress = leaderId === undefined ? undefined : options.clientPeers[leaderId];
      if (leaderId === undefined) send(res, 503, { error: { code: 'no_leader', message: 'no leader is known yet; retry shortly' } }, { 'retry-after': '1' });
      else if (leaderAddress) send(res, 307, { error: { code: 'not_leader', leaderId, leaderUrl: `http://${leaderAddress}` } }, { location: `http://${leaderAddress}${req.url ?? '/'}` });
      else send(res, 421, { error: { code: 'not_leader', leaderId, message: error.message } });
      return;
    }
    if (error instanceof RaftError) {
      send(res, 503, { error: { code: error.code, message: error.message } }, { 'retry-after': '1' });
      return;
    }
    logger.error({ err: error, method: req.method, url: req.url }, 'client request failed');
    send(res, 500, { error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } });
  };

  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => fail(req, res, error));
  });
}
