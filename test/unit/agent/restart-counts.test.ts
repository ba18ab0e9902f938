import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FileRestartLedger, RESTART_LEDGER_FILE } from '../../../src/adapters/file-restart-ledger.ts';
import { MemoryRestartLedger } from '../../../src/seams/restart-ledger.ts';
import { startHarness, type Harness } from './agent-harness.ts';
import { service, stack } from './fixtures.ts';

let h: Harness | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await h?.stop();
  h = undefined;
  while (dirs.length > 0) await rm(dirs.pop()!, { recursive: true, force: true });
});

const web = () => h!.agent.containers()[0]!;

async function crashAndRecover(harness: Harness, restarts: number) {
  harness.runtime.kill(harness.runtime.byName('app_web_1')!.id, 1);
  await harness.until(() => web().restarts === restarts && web().state === 'running', `restart ${restarts}`);
}

describe('RESTARTS across a daemon restart that adopts the container', () => {
  it('goes on counting from where the last daemon stopped', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { restartPolicy: { condition: 'any', delayMs: 100, windowMs: 0 } })]));
    await h.until(() => web()?.state === 'running', 'running');
    await crashAndRecover(h, 1);
    await crashAndRecover(h, 2);
    const id = web().containerId!;
    await h.restartAgent();
    await h.until(() => web()?.state === 'running', 'adopted');
    expect(web()).toMatchObject({ containerId: id, restarts: 2 });
    await crashAndRecover(h, 3);
    expect(h.restartLedger.restartsOf(id)).toBe(3);
  });

  it('without the ledger (a new one) it would start at 0: the count really comes from it', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { restartPolicy: { condition: 'any', delayMs: 100, windowMs: 0 } })]));
    await h.until(() => web()?.state === 'running', 'running');
    await crashAndRecover(h, 1);
    const first = h;
    await first.agent.stop();
    h = await startHarness({}, { clock: first.clock, runtime: first.runtime, store: first.store, restartLedger: new MemoryRestartLedger() });
    await h.until(() => web()?.state === 'running', 'adopted by an agent without the counts');
    expect(web().restarts).toBe(0);
  });

  it('restarts from before count toward max_attempts with the default window', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { restartPolicy: { condition: 'on-failure', delayMs: 100, windowMs: 0, maxAttempts: 2 } })]));
    await h.until(() => web()?.state === 'running', 'running');
    await crashAndRecover(h, 1);
    await crashAndRecover(h, 2);
    await h.restartAgent();
    await h.until(() => web()?.state === 'running', 'adopted');
    h.runtime.kill(h.runtime.byName('app_web_1')!.id, 1);
    await h.until(() => web().state === 'failed', 'gave up: the two earlier restarts counted');
    expect(web().message).toMatch(/^gave up after 2 restarts/);
  });

  it('forgets a removed container', async () => {
    h = await startHarness();
    await h.store.deploy(stack('app', [service('web', { restartPolicy: { condition: 'any', delayMs: 100, windowMs: 0 } })]));
    await h.until(() => web()?.state === 'running', 'running');
    await crashAndRecover(h, 1);
    const id = web().containerId!;
    await h.store.deploy(stack('app', []));
    await h.until(() => h!.agent.containers().length === 0, 'removed');
    expect(h.restartLedger.counts.has(id)).toBe(false);
  });
});

describe('the restart ledger file', () => {
  async function dataDir() {
    const dir = await mkdtemp(join(tmpdir(), 'cst-ledger-'));
    dirs.push(dir);
    return dir;
  }
  function logger() {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(JSON.parse(String(chunk)) as { level: number; msg: string }); done(); } });
    return { lines, logger: pino({ level: 'info' }, sink) };
  }

  it('keeps counts across reopening, drops what is forgotten or no longer listed', async () => {
    const dir = await dataDir();
    const { logger: log } = logger();
    const first = await FileRestartLedger.open(dir, log);
    first.record('a', 1);
    first.record('a', 2);
    first.record('b', 5);
    first.record('c', 1);
    first.forget('c');
    await first.flush();
    const second = await FileRestartLedger.open(dir, log);
    expect([second.restartsOf('a'), second.restartsOf('b'), second.restartsOf('c')]).toEqual([2, 5, 0]);
    second.retainOnly(new Set(['b']));
    await second.flush();
    expect(JSON.parse(await readFile(join(dir, RESTART_LEDGER_FILE), 'utf8'))).toEqual({ version: 1, restarts: { b: 5 } });
  });

  it('an unreadable file is reported and replaced, never fatal', async () => {
    const dir = await dataDir();
    await writeFile(join(dir, RESTART_LEDGER_FILE), '{"version":1,"restarts":');
    const { lines, logger: log } = logger();
    const ledger = await FileRestartLedger.open(dir, log);
    expect(ledger.restartsOf('a')).toBe(0);
    expect(lines.map((line) => [line.level, line.msg])).toEqual([[40, 'restart counts unreadable; counting from 0']]);
    ledger.record('a', 1);
    await ledger.flush();
    expect((await FileRestartLedger.open(dir, log)).restartsOf('a')).toBe(1);
  });
});
