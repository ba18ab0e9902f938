import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { docker } from '../support/docker-engine.ts';
import { eventually } from '../support/eventually.ts';
import { runCommand } from '../support/run-command.ts';
import { runConstellation } from './support/cli-process.ts';
import { DaemonEnvironment } from './support/daemon-environment.ts';
import type { DaemonProcess } from './support/daemon-process.ts';
import { removeStackContainers, stackContainers } from './support/engine-inspect.ts';

// Issue 9 on a real engine with a real daemon: a busybox "vpn" service with a healthcheck, an
// httpd in its network namespace, the port published on the vpn. The vpn is restarted by the
// engine, recreated, made unhealthy, and restarted while the daemon is killed with SIGKILL; each
// time the httpd must serve again through the vpn's published port with no manual step.
const socket = inject('dockerSocket');
const dockerHost = `unix://${socket}`;
const image = inject('testImage');
const stack = 'e2e-vpn';
// The shared engine lives in the network namespace named after its directory (test/support/docker-engine.ts).
const netnsPath = `/var/run/netns/cst-${basename(dirname(socket))}`;
const port = 18_000 + (process.pid % 1000);

function compose(vpnEnv = 'one'): string {
  // /tmp/hold (made by a test) keeps a restarted vpn unhealthy for 4 s: a window to kill the daemon in.
  return `services:
  vpn:
    image: ${image}
    command: ["sh", "-c", "rm -f /tmp/healthy; if [ -f /tmp/hold ]; then rm /tmp/hold; sleep 4; fi; touch /tmp/healthy; trap 'exit 0' TERM; while true; do sleep 1; done"]
    environment:
      GENERATION: ${vpnEnv}
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/healthy"]
      interval: 1s
      timeout: 1s
      retries: 1
    ports:
      - target: 80
        published: ${port}
        mode: host
    stop_grace_period: 1s
  web:
    image: ${image}
    network_mode: "service:vpn"
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    stop_grace_period: 1s
    depends_on: [vpn]
`;
}

let env: DaemonEnvironment;
let daemon: DaemonProcess;
let file: string;

beforeAll(async () => {
  await removeStackContainers(dockerHost, [stack]);
  env = await DaemonEnvironment.create(dockerHost);
  file = await env.writeCompose('vpn.yaml', compose());
});

afterAll(async () => {
  await env?.dispose();
  await removeStackContainers(dockerHost, [stack]);
});

/** One GET through the vpn's published port, from inside the engine's network namespace (Node's fetch: busybox-static's wget crashes on the host). */
async function fetchThroughVpn(): Promise<string> {
  const script = "fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then(async (r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); process.stdout.write(await r.text()); }).catch((e) => { process.stderr.write(String(e?.cause?.code ?? e)); process.exit(1); })";
  return (await runCommand('nsenter', [`--net=${netnsPath}`, process.execPath, '-e', script, `http://127.0.0.1:${port}/`], { timeoutMs: 15_000 })).stdout;
}

async function serves(): Promise<boolean> {
  return (await fetchThroughVpn()).includes('constellation test image');
}

async function member(service: 'vpn' | 'web') {
  const found = (await stackContainers(dockerHost, stack)).find((c) => c.labels['constellation.service'] === service);
  if (!found) throw new Error(`no ${service} container`);
  return found;
}

async function networkModeOf(id: string): Promise<string> {
  return (await docker(dockerHost, ['inspect', '-f', '{{.HostConfig.NetworkMode}}', id])).stdout.trim();
}

/** Seconds until the httpd serves through the published port again, measured from `sinceMs`. */
async function recovered(sinceMs: number, what: string): Promise<number> {
  await eventually(serves, { timeoutMs: 60_000, what, intervalMs: 200 });
  return (Date.now() - sinceMs) / 1000;
}

describe('vpn-link on a real engine', () => {
  it('deploys the vpn first, the httpd inside its namespace, reachable through the vpn port', async () => {
    daemon = await env.start();
    const run = await runConstellation(['deploy', '--file', file, '--stack', stack, '--config', env.configFile, '--timeout', '60']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const [vpn, web] = [await member('vpn'), await member('web')];
    expect(await networkModeOf(web.id)).toBe(`container:${vpn.id}`);
    expect(Date.parse(web.startedAt)).toBeGreaterThanOrEqual(Date.parse(vpn.startedAt));
    await eventually(serves, { timeoutMs: 20_000, what: 'httpd served through the vpn port' });
    const listed = await runConstellation(['services', '--stack', stack, '--config', env.configFile]);
    expect(listed.stdout).toMatch(/vpn: up/);
  });

  it('docker restart of the vpn: the httpd serves again through the published port, same containers', async () => {
    const [vpn, web] = [await member('vpn'), await member('web')];
    const sinceMs = Date.now();
    await docker(dockerHost, ['restart', '-t', '1', vpn.id]);
    const seconds = await recovered(sinceMs, 'httpd served again after docker restart of the vpn');
    console.info(`vpn restart: served again after ${seconds.toFixed(2)} s`);
    const [vpnAfter, webAfter] = [await member('vpn'), await member('web')];
    expect([vpnAfter.id, webAfter.id]).toEqual([vpn.id, web.id]);
    // Restarted into the vpn's new namespace: it started after the vpn's current run.
    expect(Date.parse(webAfter.startedAt)).toBeGreaterThanOrEqual(Date.parse(vpnAfter.startedAt));
  });

  it('the vpn recreated by a spec change: the httpd is recreated against the new container', async () => {
    const [vpn, web] = [await member('vpn'), await member('web')];
    const changed = await env.writeCompose('vpn-2.yaml', compose('two'));
    const sinceMs = Date.now();
    const run = await runConstellation(['deploy', '--file', changed, '--stack', stack, '--config', env.configFile, '--timeout', '60']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const seconds = await recovered(sinceMs, 'httpd served again after the vpn was recreated');
    console.info(`vpn recreate: served again after ${seconds.toFixed(2)} s`);
    const [vpnAfter, webAfter] = [await member('vpn'), await member('web')];
    expect(vpnAfter.id).not.toBe(vpn.id);
    expect(webAfter.id).not.toBe(web.id);
    expect(await networkModeOf(webAfter.id)).toBe(`container:${vpnAfter.id}`);
    file = changed;
  });

  it('the vpn unhealthy: the httpd is stopped (kill switch), and back once the vpn is healthy', async () => {
    const vpn = await member('vpn');
    await docker(dockerHost, ['exec', vpn.id, 'rm', '-f', '/tmp/healthy']);
    await eventually(async () => !(await member('web')).running, { timeoutMs: 20_000, what: 'httpd stopped while the vpn is unhealthy' });
    expect(await serves().catch(() => false)).toBe(false);
    await recovered(Date.now(), 'httpd served again once the vpn was healthy');
    expect((await member('web')).running).toBe(true);
  });

  it('SIGKILL of the daemon during a recovery: the restarted daemon finishes it', async () => {
    const [vpn, web] = [await member('vpn'), await member('web')];
    await docker(dockerHost, ['exec', vpn.id, 'touch', '/tmp/hold']);
    await docker(dockerHost, ['restart', '-t', '1', vpn.id]);
    // The kill switch has stopped the httpd and the vpn is not healthy yet: mid-recovery.
    await eventually(async () => !(await member('web')).running, { timeoutMs: 20_000, what: 'httpd held while the vpn comes back' });
    expect(await daemon.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    expect((await member('web')).running).toBe(false);
    daemon = await env.start();
    const seconds = await recovered(Date.now(), 'httpd served again, brought back by the restarted daemon');
    console.info(`daemon killed mid-recovery: served again ${seconds.toFixed(2)} s after the restart`);
    const webAfter = await member('web');
    expect(webAfter.id).toBe(web.id);
    expect(Date.parse(webAfter.startedAt)).toBeGreaterThanOrEqual(Date.parse((await member('vpn')).startedAt));
  });
});
