import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chromiumBinaries, chromiumExecutable, ensureBinaries } from '../support/system-packages.ts';
import { DaemonEnvironment } from './support/daemon-environment.ts';
import { removeStackContainers, stackContainers } from './support/engine-inspect.ts';

// The daemon's own pages in a real browser (Debian's Chromium, driven by playwright-core — no
// browser download), against a real daemon process on the private engine.
const dockerHost = `unix://${inject('dockerSocket')}`;
const image = inject('testImage');
const stack = 'e2e-view';
/** Screenshots land here for a person to look at (gitignored). */
const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let env: DaemonEnvironment;
let browser: Browser;

beforeAll(async () => {
  await ensureBinaries(chromiumBinaries);
  await removeStackContainers(dockerHost, [stack]);
  await mkdir(artifacts, { recursive: true });
  env = await DaemonEnvironment.create(dockerHost);
  await env.start();
  // Root has no user namespace sandbox to give Chromium; the page is our own.
  browser = await chromium.launch({ executablePath: chromiumExecutable(), args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
  await env?.dispose();
  await removeStackContainers(dockerHost, [stack]);
});

describe('web view and actor viewer in a real browser', () => {
  it('shows a deployed stack\'s replicas running, live, and the container machine in its current state', async () => {
    const token = await env.token();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('response', (answer) => {
      if (answer.status() >= 400) pageErrors.push(`${answer.status()} ${answer.url()}`);
    });

    // Without the token the page asks for it instead of showing anything.
    await page.goto(`${env.url}/`);
    await page.locator('#token-input').waitFor({ timeout: 10_000 });
    // With the token in the fragment (what `constellation inspect` prints), it goes live.
    await page.goto(`${env.url}/#token=${token}`);
    await page.locator('#status', { hasText: 'live' }).waitFor({ timeout: 15_000 }).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\nstatus: ${await page.locator('#status').textContent()}\npage errors: ${pageErrors.join('; ')}`);
    });
    expect(page.url()).not.toContain(token);
    await expect.poll(() => page.locator('#replicas tbody tr').count()).toBe(0);

    const response = await env.fetch('/v1/deploy', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stack, compose: `services:\n  web:\n    image: ${image}\n    command: ["httpd", "-f", "-p", "80", "-h", "/www"]\n    stop_grace_period: 1s\n    deploy:\n      replicas: 2\n` }),
    });
    expect(response.status).toBe(202);

    // No reload: the page follows the event stream.
    await expect.poll(() => page.locator('#replicas tbody tr[data-state="running"]').count(), { timeout: 60_000, interval: 200 }).toBe(2);
    const replicaNames = await page.locator('#replicas tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-replica')));
    expect(replicaNames).toEqual([`${stack}_web_1`, `${stack}_web_2`]);
    const engine = await stackContainers(dockerHost, stack);
    expect(engine.filter((c) => c.running)).toHaveLength(2);
    const serviceRow = page.locator(`#services tr[data-service="${stack}_web"] td`);
    await expect.poll(() => serviceRow.allTextContents()).toEqual([`${stack}_web`, '2', '2', '–', 'converged']);
    await page.locator('#nodes tbody tr[data-node="e2e-node"]').waitFor();
    await page.locator('#events li[data-type="replica.started"]').first().waitFor();
    await page.locator('#events li[data-type="deploy.accepted"]').waitFor();
    await page.screenshot({ path: `${artifacts}web-view.png`, fullPage: true });

    // The actor viewer, filtered to the container machines.
    const viewer = await context.newPage();
    viewer.on('pageerror', (error) => pageErrors.push(error.message));
    await viewer.goto(`${env.url}/inspect#token=${token}&kind=container`);
    await viewer.locator('#status', { hasText: 'live' }).waitFor({ timeout: 15_000 });
    const containerActors = viewer.locator('#tree button.actor[data-kind="container"]');
    await expect.poll(() => containerActors.count(), { timeout: 15_000 }).toBe(2);
    await viewer.locator(`#tree button.actor[data-name^="container.${stack}_web_1."]`).click();
    await viewer.locator('#chart .state.active[data-state="running"]').waitFor({ timeout: 10_000 });
    expect(await viewer.locator('#chart .state[data-state="creating"]').count()).toBe(1);
    expect(await viewer.locator('#chart .state.active[data-state="creating"]').count()).toBe(0);
    expect(await viewer.locator('#current-state').textContent()).toMatch(/^running/);
    // Time travel: the first entry of the history is the machine as it was registered.
    await viewer.locator('#history button').last().click();
    await viewer.locator('.travel').waitFor();
    await viewer.screenshot({ path: `${artifacts}inspect.png`, fullPage: true });
    // A rolling update (one replica at a time, 20 s between batches) shows as a rollout in progress.
    const update = await env.fetch('/v1/deploy', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stack, compose: `services:\n  web:\n    image: ${image}\n    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]\n    stop_grace_period: 1s\n    deploy:\n      replicas: 2\n      update_config:\n        parallelism: 1\n        delay: 20s\n` }),
    });
    expect(update.status).toBe(202);
    const rolloutRow = page.locator(`#rollouts tbody tr[data-rollout="${stack}/web"]`);
    await rolloutRow.waitFor({ timeout: 30_000 });
    expect(await rolloutRow.locator('td').nth(1).textContent()).toBe('update v1 → v2');
    expect(await rolloutRow.locator('td').nth(3).textContent()).toMatch(/^[12]\/2$/);
    await page.locator('#events li[data-type="rollout.started"]').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: `${artifacts}cluster-rollout.png`, fullPage: true });
    // The one expected refusal: a single node answers the web view's probe of /v1/nodes with 409.
    expect(pageErrors.filter((error) => !/409/.test(error))).toEqual([]);
    expect(pageErrors.filter((error) => error.includes('/v1/nodes'))).toHaveLength(1);
    await context.close();
  });
});
