import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A stand-in for tailscaled's LocalAPI on a real Unix socket: `GET /localapi/v0/status` answers
 * the given body; like tailscaled it refuses every Host but `local-tailscaled.sock` with 403.
 */
export class FakeTailscaled {
  /** The Host header of every request seen. */
  readonly hosts: (string | undefined)[] = [];
  /** What the status answers (set it before a daemon asks). */
  body = '';
  private readonly server: Server;

  private constructor(readonly socketPath: string, private readonly dir: string) {
    this.server = createServer((req, res) => {
      this.hosts.push(req.headers.host);
      if (req.headers.host !== 'local-tailscaled.sock') {
        res.writeHead(403).end('invalid localapi Host header\n');
        return;
      }
      if (req.method !== 'GET' || req.url !== '/localapi/v0/status') {
        res.writeHead(404).end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(this.body);
    });
  }

  static async start(): Promise<FakeTailscaled> {
    const dir = await mkdtemp(join(tmpdir(), 'tailscaled-'));
    const socketPath = join(dir, 'tailscaled.sock');
    const fake = new FakeTailscaled(socketPath, dir);
    await new Promise<void>((resolve) => fake.server.listen(socketPath, resolve));
    return fake;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
