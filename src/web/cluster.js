// The cluster at a glance: nodes, services (desired / running / healthy), every replica and where
// it runs, and recent events — refreshed from the REST API whenever the event stream says
// something changed, and every few seconds in any case.
import { api, askForToken, currentToken, el, forgetToken, shortTime, stream, Unauthorized } from './common.js';

const main = document.getElementById('main');
const statusBadge = document.getElementById('status');
const recent = [];
let lastIndex;
let refreshTimer;
/** Set once the daemon says it is not a cluster: it has no node routes to ask again. */
let singleNode = false;
let view = { nodes: [], services: [], containers: [], rollouts: [], nodeId: '' };
/** A rollout in these states is still moving (or waiting for a human); the others are history. */
const rolloutActive = new Set(['pending', 'updating', 'paused', 'rolling-back']);

function setStatus(text) {
  statusBadge.textContent = text;
  statusBadge.dataset.state = text.split(':')[0];
}

async function load() {
  const [services, containers, health, stacks] = await Promise.all([api('/v1/services'), api('/v1/containers'), api('/healthz'), api('/v1/stacks')]);
  // A stack with a rollout under way is never converged: only those are asked about theirs.
  const rollouts = (await Promise.all(stacks.filter((stack) => !stack.converged).map((stack) => api(`/v1/stacks/${encodeURIComponent(stack.name)}/rollout`).catch(() => undefined))))
    .filter((view) => view?.rollout && rolloutActive.has(view.rollout.state));
  let nodes;
  if (!singleNode) {
    try {
      nodes = await api('/v1/nodes');
    } catch (error) {
      if (error instanceof Unauthorized || error.code !== 'not_a_cluster') throw error;
      singleNode = true;
    }
  }
  // A single node: itself, ready, running everything.
  nodes ??= [{ id: health.nodeId, role: 'manager', status: 'ready', availability: 'active', leader: true, containers: containers.length, address: location.host }];
  view = { nodes, services, containers, rollouts, nodeId: health.nodeId };
  render();
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh(), 150);
}

async function refresh() {
  try {
    await load();
  } catch (error) {
    if (error instanceof Unauthorized) return signIn('The token was refused; enter the API token.');
    setStatus(`error: ${error.message}`);
  }
}

function table(id, headers, rows) {
  return el('div', { class: 'scroll' }, el('table', { id },
    el('thead', {}, el('tr', {}, headers.map((header) => el('th', {}, header)))),
    el('tbody', {}, rows)));
}

function render() {
  const { nodes, services, containers, rollouts } = view;
  const rolloutRows = rollouts.flatMap(({ stack, rollout }) => rollout.services.filter((part) => part.phase !== 'completed').map((part) => el('tr', { 'data-rollout': `${stack}/${part.service}`, 'data-phase': part.phase },
    el('td', {}, `${stack}_${part.service}`),
    el('td', {}, `${rollout.kind === 'rollback' ? 'rollback' : 'update'} v${rollout.fromVersion} → v${rollout.id}`),
    el('td', { class: part.phase === 'paused' || part.phase === 'rolling-back' ? 'state-failed' : 'state-pending' }, part.phase, part.step ? el('div', { class: 'note' }, part.step) : ''),
    el('td', { class: 'num' }, part.batches > 0 ? `${part.batch}/${part.batches}` : '–'),
    el('td', { class: 'num' }, `${part.updated}/${part.total}`),
    el('td', { class: 'num' }, String(part.healthy)),
    el('td', {}, part.reason ?? ''))));
  const nodeRows = nodes.map((node) => el('tr', { 'data-node': node.id },
    el('td', {}, node.id, node.leader ? el('span', { class: 'tag' }, 'leader') : ''),
    el('td', {}, node.role),
    el('td', { class: `state-${node.status}` }, node.status),
    el('td', {}, node.availability),
    el('td', { class: 'num' }, String(containers.filter((c) => (c.node ?? view.nodeId) === node.id).length))));
  const serviceRows = services.map((service) => el('tr', { 'data-service': service.id },
    el('td', {}, service.id),
    el('td', { class: 'num' }, String(service.desiredReplicas)),
    el('td', { class: 'num' }, String(service.running)),
    el('td', { class: 'num' }, service.healthcheck ? String(service.healthy) : '–'),
    el('td', { class: service.failed ? 'state-failed' : service.converged ? 'state-running' : 'state-pending' },
      service.failed ? 'failed' : service.converged ? 'converged' : 'converging', service.message ? el('div', { class: 'note' }, service.message) : '')));
  const replicaRows = [...containers].sort((a, b) => a.name.localeCompare(b.name)).map((container) => el('tr', { 'data-replica': container.name, 'data-state': container.state },
    el('td', {}, container.name),
    el('td', { class: `state-${container.state}` }, container.state),
    el('td', {}, container.health),
    el('td', {}, container.node ?? view.nodeId),
    el('td', { class: 'num' }, String(container.restarts)),
    el('td', { class: 'mono' }, (container.containerId ?? '').slice(0, 12))));
  const eventRows = recent.slice(-50).reverse().map((event) => el('li', { 'data-type': event.type },
    el('span', { class: 'mono' }, `#${event.index} ${shortTime(event.atMs)} `), el('b', {}, event.type), ' ', describe(event)));
  main.replaceChildren(
    el('section', {}, el('h2', {}, `Nodes (${nodes.length})`), table('nodes', ['Node', 'Role', 'Status', 'Availability', 'Replicas'], nodeRows)),
    el('section', {}, el('h2', {}, `Services (${services.length})`), table('services', ['Service', 'Desired', 'Running', 'Healthy', 'State'], serviceRows)),
    el('section', {}, el('h2', {}, `Rollouts in progress (${rolloutRows.length})`), rolloutRows.length > 0
      ? table('rollouts', ['Service', 'Rollout', 'Phase', 'Batch', 'Updated', 'Healthy', 'Reason'], rolloutRows)
      : el('p', { class: 'note', id: 'no-rollouts' }, 'None: every service runs its current version.')),
    el('section', {}, el('h2', {}, `Replicas (${containers.length})`), table('replicas', ['Replica', 'State', 'Health', 'Node', 'Restarts', 'Container'], replicaRows)),
    el('section', {}, el('h2', {}, 'Recent events'), eventRows.length > 0 ? el('ul', { id: 'events', class: 'events' }, eventRows) : el('p', { class: 'note' }, 'No events since this page opened.')),
  );
}

function describe(event) {
  const parts = [];
  if (event.stack) parts.push(`${event.stack}${event.service ? `/${event.service}` : ''}${event.slot !== undefined ? `.${event.slot}` : ''}`);
  if (event.node) parts.push(`on ${event.node}`);
  if (event.from || event.to) parts.push(`${event.from ?? '–'} → ${event.to ?? '–'}`);
  if (event.type === 'failover') parts.push(`${event.replicas} replica${event.replicas === 1 ? '' : 's'} moved (${Object.entries(event.moved).map(([slot, to]) => `${slot} → ${to}`).join(', ')}) after ${event.seconds} s`);
  if (event.type?.startsWith('rollout.')) parts.push(`v${event.version} ${event.phase}${event.batches ? ` batch ${event.batch}/${event.batches}` : ''}${event.reason ? `: ${event.reason}` : ''}`);
  if (event.exitCode !== undefined) parts.push(`exit ${event.exitCode}`);
  return parts.join(' ');
}

async function signIn(message) {
  forgetToken();
  setStatus('signed out');
  await askForToken(main, message);
  await start();
}

let events;
let polling;
async function start() {
  if (!currentToken()) return signIn();
  await refresh();
  events?.close();
  events = stream(() => `/v1/events${lastIndex !== undefined ? `?since=${lastIndex}` : ''}`, {
    onStatus: setStatus,
    onFrame: (frame) => {
      if (typeof frame.index === 'number') {
        lastIndex = frame.index;
        recent.push(frame);
        if (recent.length > 200) recent.splice(0, recent.length - 200);
        scheduleRefresh();
      } else if (frame.type === 'stream.reset') {
        lastIndex = undefined;
      }
    },
  });
  polling ??= setInterval(() => refresh(), 5000);
}

void start();
