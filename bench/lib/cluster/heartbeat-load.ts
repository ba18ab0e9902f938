import { Agent, request } from 'node:http';
import { PEER_AUTH_HEADER, signPeerRequest } from '../../../src/cluster-mode/peer-auth.ts';

/**
 * Simulated nodes heartbeating against a real leader over its cluster port, with the protocol the
 * daemons use on main: POST /cluster/heartbeat, HMAC-signed with the cluster secret, body
 * {nodeId, status?} — the full status on the first beat (and whenever the leader asks), then just
 * the id while nothing changes, as src/cluster-mode/heartbeat-loop.ts does. Each simulated node
 * keeps its own keep-alive connection, as a real node would.
 */
export interface HeartbeatLoadOptions {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
  readonly nodeIds: readonly string[];
}

export interface HeartbeatWindow {
  readonly seconds: number;
  readonly sent: number;
  readonly answered: number;
  readonly failed: number;
  /** Beats not sent because the node's previous one was still unanswered (as the real loop skips). */
  readonly skipped: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly firstError?: string;
}

const path = '/cluster/heartbeat';

class SimulatedNode {
  full = true;
  inFlight = false;
  readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  constructor(readonly id: string) {}
}

export class HeartbeatLoad {
  private readonly nodes: SimulatedNode[];
  private timers: NodeJS.Timeout[] = [];
  private windowStart = performance.now();
  private sent = 0;
  private answered = 0;
  private failed = 0;
  private skipped = 0;
  private latencies: number[] = [];
  private firstError: string | undefined;

  constructor(private readonly options: HeartbeatLoadOptions) {
    this.nodes = options.nodeIds.map((id) => new SimulatedNode(id));
  }

  /** One heartbeat of one node; resolves when answered or failed. */
  beat(node: SimulatedNode): Promise<void> {
    if (node.inFlight) {
      this.skipped += 1;
      return Promise.resolve();
    }
    node.inFlight = true;
    const body = JSON.stringify(node.full ? { nodeId: node.id, status: { containers: [], services: [] } } : { nodeId: node.id });
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      [PEER_AUTH_HEADER]: signPeerRequest(this.options.secret, Date.now(), 'POST', path, body),
    };
    const started = performance.now();
    this.sent += 1;
    return new Promise<void>((resolve) => {
      const done = (error?: string): void => {
        node.inFlight = false;
        if (error === undefined) {
          this.answered += 1;
          this.latencies.push(performance.now() - started);
        } else {
          this.failed += 1;
          node.full = true;
          this.firstError ??= error;
        }
        resolve();
      };
      const req = request({ host: this.options.host, port: this.options.port, method: 'POST', path, headers, agent: node.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) return done(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
          try {
            const answer = JSON.parse(text) as { needFull?: boolean };
            node.full = answer.needFull === true;
            done();
          } catch {
            done(`not JSON: ${text.slice(0, 200)}`);
          }
        });
        res.on('error', (error) => done(error.message));
      });
      req.on('error', (error) => done(error.message));
      req.end(body);
    });
  }

  /** Every node beats once per period, their phases spread evenly over the period. */
  startPeriodic(intervalMs: number): void {
    this.nodes.forEach((node, i) => {
      const phase = setTimeout(() => {
        void this.beat(node);
        this.timers.push(setInterval(() => void this.beat(node), intervalMs));
      }, (i / this.nodes.length) * intervalMs);
      this.timers.push(phase);
    });
  }

  /** Back to back from `concurrency` loops over the nodes, for a throughput ceiling. */
  async saturate(concurrency: number, seconds: number): Promise<void> {
    const until = performance.now() + seconds * 1000;
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const node = this.nodes[next++ % this.nodes.length]!;
        if (node.inFlight) continue;
        await this.beat(node);
      }
    }));
  }

  stopPeriodic(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
  }

  /** Counts since the last window() (or the start), then starts a new window. */
  window(): HeartbeatWindow {
    const now = performance.now();
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number): number => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 100) / 100;
    const result: HeartbeatWindow = {
      seconds: Math.round((now - this.windowStart) / 10) / 100,
      sent: this.sent,
      answered: this.answered,
      failed: this.failed,
      skipped: this.skipped,
      latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) },
      ...(this.firstError !== undefined ? { firstError: this.firstError } : {}),
    };
    this.windowStart = now;
    this.sent = this.answered = this.failed = this.skipped = 0;
    this.latencies = [];
    this.firstError = undefined;
    return result;
  }

  close(): void {
    this.stopPeriodic();
    for (const node of this.nodes) node.agent.destroy();
  }
}
