import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from './daemon-process.ts';
import { freeLoopbackPort as freePort } from '../../support/free-port.ts';

/**
 * Everything one daemon needs on disk (config file, data dir, a directory for compose files),
 * kept across daemon restarts so a restarted daemon finds the same state.
 */
export class DaemonEnvironment {
  private readonly daemons = new Set<DaemonProcess>();

  private constructor(readonly dir: string, readonly configFile: string, readonly dataDir: string, readonly apiPort: number, readonly dockerHost: string) {}

  static async create(dockerHost: string, extraConfig = ''): Promise<DaemonEnvironment> {
    const dir = await mkdtemp(join(tmpdir(), 'cst-e2e-'));
    const configFile = join(dir, 'constellation.yml');
    await writeFile(configFile, `node:\n  id: e2e-node\nreconcile:\n  intervalMs: 1000\n${extraConfig}`);
    return new DaemonEnvironment(dir, configFile, join(dir, 'data'), await freePort(), dockerHost);
  }

  get url(): string {
    return `http://127.0.0.1:${this.apiPort}`;
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
