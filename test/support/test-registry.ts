import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, type PrivateEngine } from './docker-engine.ts';
import { eventually } from './eventually.ts';
import { runCommand } from './run-command.ts';
import { ensureBinaries, findExecutable } from './system-packages.ts';

/**
 * A real registry (Debian's docker-registry) served inside a private engine's network namespace,
 * so that 127.0.0.1 means the same place to the registry and to the engine (which treats
 * 127.0.0.0/8 registries as plain-HTTP "insecure" ones by default).
 */
export interface TestRegistry {
  /** host:port, e.g. 127.0.0.1:5000 */
  readonly address: string;
  /** Tags `image` as `<address>/<name>`, pushes it and removes the local tag, so a deploy must pull. */
  publish(image: string, name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function ensureRegistryBinary(): Promise<void> {
  await ensureBinaries([{ binary: 'docker-registry', debianPackage: 'docker-registry' }]);
}

export async function startTestRegistry(engine: PrivateEngine, port = 5000): Promise<TestRegistry> {
  await ensureRegistryBinary();
  const address = `127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'cst-registry-'));
  const config = join(dir, 'config.yml');
  writeFileSync(config, ['version: 0.1', 'log:', '  level: warn', 'storage:', '  filesystem:', `    rootdirectory: ${join(dir, 'data')}`, 'http:', `  addr: ${address}`, ''].join('\n'));
  // The registry logs every 404 it serves (the push probes for blobs first); keep that out of the test output.
  const log = openSync(join(dir, 'registry.log'), 'a');
  const child: ChildProcess = spawn('nsenter', [`--net=${engine.netnsPath}`, findExecutable('docker-registry') ?? 'docker-registry', 'serve', config], {
    stdio: ['ignore', log, log],
    env: { ...process.env, REGISTRY_HTTP_SECRET: 'constellation-test' },
  });
  closeSync(log);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const busybox = findExecutable('busybox') ?? 'busybox';
    await eventually(() => runCommand('nsenter', [`--net=${engine.netnsPath}`, busybox, 'wget', '-q', '-O', '-', `http://${address}/v2/`]), {
      timeoutMs: 20_000,
      what: `the registry to answer on ${address} inside ${engine.netnsName} (log: ${join(dir, 'registry.log')})`,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    address,
    async publish(image, name) {
      const ref = `${address}/${name}`;
      await docker(engine.dockerHost, ['tag', image, ref]);
      await docker(engine.dockerHost, ['push', ref]);
      await docker(engine.dockerHost, ['rmi', ref]);
      return ref;
    },
    stop,
  };
}
