import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from './daemon-process.ts';
import { freeLoopbackPort as freePort } from '../../support/free-port.ts';

/**
 * Everything one daemon needs on disk (config file, data dir, a directory for compose files),
 * kept across daemon restarts so a restarted daemon finds the same state. The config sits where
 * `npm start` keeps it (`<dir>/config/constellation.yml`) and names the data dir and the API port,
 * so the CLI run with `--config`, or from `<dir>` with no flags at all, finds the daemon and the
 * API token it generated — as a user's would.
 */
export class DaemonEnvironment {
  private readonly daemons = new Set<DaemonProcess>();

  private constructor(readonly dir: string, readonly configFile: string, readonly dataDir: string, readonly apiPort: number, readonly dockerHost: string) {}

  static async create(dockerHost: string, extraConfig = ''): Promise<DaemonEnvironment> {
    const dir = await mkdtemp(join(tmpdir(), 'cst-e2e-'));
    const configFile = join(dir, 'config', 'constellation.yml');
    const dataDir = join(dir, 'data');
    const apiPort = await freePort();
    await mkdir(join(dir, 'config'));
    await writeFile(configFile, `node:\n  id: e2e-node\n  dataDir: ${dataDir}\napi:\n  port: ${apiPort}\nreconcile:\n  intervalMs: 1000\n${extraConfig}`);
    return new DaemonEnvironment(dir, configFile, dataDir, apiPort, dockerHost);
  }

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** The token the daemon generated at its first start (the API refuses requests without it). */
  async token(): Promise<string> {
    return (await readFile(join(this.dataDir, 'api-token'), 'utf8')).trim();
  }

  /** fetch() against the daemon's API as a legitimate client: with the bearer token. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, { ...init, headers: { authorization: `Bearer ${await this.token()}`, ...(init.headers as Record<string, string> | undefined) } });
  }

  async start(env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
    const { daemon } = await DaemonProcess.start({ configFile: this.configFile, dockerHost: this.dockerHost, dataDir: this.dataDir, apiPort: this.apiPort, env });
    this.daemons.add(daemon);
    void daemon.exited.then(() => this.daemons.delete(daemon));
    return daemon;
  }

  async writeCompose(name: string, content: string): Promise<string> {
    const path = join(this.dir, name);
    await writeFile(path, content);
    return path;
  }

  /** Kills any daemon still running and deletes the files. Containers are the test's to remove. */
  async dispose(): Promise<void> {
    for (const daemon of [...this.daemons]) await daemon.kill('SIGKILL');
    await rm(this.dir, { recursive: true, force: true });
  }
}
