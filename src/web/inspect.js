// The actor viewer: the daemon's actor tree from GET /v1/inspect (@statelyai/inspect frames), the
// selected machine's statechart drawn from its definition with the current state lit, and its
// events and snapshots, each of which can be selected to see the machine as it was then.
import { api, askForToken, currentToken, el, forgetToken, fragmentParams, shortTime, stream, Unauthorized } from './common.js';

const tree = document.getElementById('tree');
const detail = document.getElementById('detail');
const statusBadge = document.getElementById('status');
const showFinished = document.getElementById('show-finished');
const filterForm = document.getElementById('filter');
const maxHistory = 300;

/** sessionId → { frame (latest @xstate.actor, snapshot kept current), definition, history, finished } */
const actors = new Map();
let selected;
/** Index into the selected actor's history being viewed, or undefined for "now". */
let travel;
let renderScheduled = false;
let connection;
const stately = { window: undefined, connected: false };

const params = fragmentParams();
document.getElementById('filter-kind').value = params.get('kind') ?? '';
document.getElementById('filter-id').value = params.get('id') ?? '';

function setStatus(text) {
  statusBadge.textContent = text;
  statusBadge.dataset.state = text.split(':')[0];
  if (text === 'connecting') actors.clear();
}

function query() {
  const search = new URLSearchParams();
  const kind = document.getElementById('filter-kind').value.trim();
  const id = document.getElementById('filter-id').value.trim();
  if (kind) search.set('kind', kind);
  if (id) search.set('id', id);
  const text = search.toString();
  return text ? `?${text}` : '';
}

function onFrame(frame) {
  relayToStately(frame);
  if (frame.type === '@xstate.actor') {
    const known = actors.get(frame.sessionId);
    actors.set(frame.sessionId, {
      frame,
      definition: undefined,
      history: known?.history ?? [{ at: Number(frame.createdAt), label: 'registered', snapshot: frame.snapshot }],
      finished: isFinished(frame.snapshot),
    });
    if (selected === undefined && frame.parentId === undefined) selected = frame.sessionId;
  } else if (frame.type === '@xstate.event') {
    const actor = actors.get(frame.sessionId);
    if (actor) record(actor, { at: Number(frame.createdAt), label: eventType(frame.event), event: frame.event, sourceId: frame.sourceId });
  } else if (frame.type === '@xstate.snapshot') {
    const actor = actors.get(frame.sessionId);
    if (actor) {
      actor.frame = { ...actor.frame, snapshot: frame.snapshot };
      actor.finished = isFinished(frame.snapshot);
      record(actor, { at: Number(frame.createdAt), label: `→ ${stateText(frame.snapshot?.value)}`, snapshot: frame.snapshot, event: frame.event });
    }
  }
  scheduleRender();
}

function record(actor, entry) {
  actor.history.push(entry);
  if (actor.history.length > maxHistory) actor.history.splice(0, actor.history.length - maxHistory);
}

function isFinished(snapshot) {
  return snapshot?.status !== undefined && snapshot.status !== 'active';
}

function eventType(event) {
  return typeof event?.type === 'string' ? event.type : 'event';
}

/** `{running: 'none'}` → `running.none`; parallel states joined with `, `. */
function stateText(value) {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  return Object.entries(value).map(([key, child]) => {
    const inner = stateText(child);
    return inner && typeof child === 'string' ? `${key}.${inner}` : inner ? `${key}.{${inner}}` : key;
  }).join(', ');
}

/** Every active state path: `{running: 'none'}` → ['running', 'running.none']. */
function activePaths(value, prefix = '') {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [`${prefix}${value}`];
  return Object.entries(value).flatMap(([key, child]) => [`${prefix}${key}`, ...activePaths(child, `${prefix}${key}.`)]);
}

function scheduleRender() {
  if (renderScheduled) return;
  renderScheduled = true;
  requestAnimationFrame(() => {
    renderScheduled = false;
    render();
  });
}

function render() {
  renderTree();
  renderDetail();
}

function renderTree() {
  const children = new Map();
  for (const [sessionId, actor] of actors) {
    if (actor.finished && !showFinished.checked) continue;
    const parent = actor.frame.parentId !== undefined && actors.has(actor.frame.parentId) ? actor.frame.parentId : undefined;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(sessionId);
  }
  const branch = (parent) => (children.get(parent) ?? [])
    .sort((a, b) => actors.get(a).frame.name.localeCompare(actors.get(b).frame.name))
    .map((sessionId) => {
      const actor = actors.get(sessionId);
      const kids = branch(sessionId);
      return el('li', {},
        el('button', {
          type: 'button',
          class: `actor${sessionId === selected ? ' selected' : ''}${actor.finished ? ' finished' : ''}`,
          'data-session': sessionId,
          'data-name': actor.frame.name,
          'data-kind': actor.frame.kind ?? '',
          onclick: () => {
            selected = sessionId;
            travel = undefined;
            render();
          },
        }, el('span', { class: 'name' }, actor.frame.name), ' ', el('span', { class: 'tag' }, actor.frame.kind ?? ''), ' ', el('span', { class: 'value' }, stateText(actor.frame.snapshot?.value))),
        kids.length > 0 ? el('ul', {}, kids) : undefined);
    });
  tree.replaceChildren(...branch(undefined));
}

function renderDetail() {
  const actor = selected !== undefined ? actors.get(selected) : undefined;
  if (!actor) {
    detail.replaceChildren(el('p', { class: 'note' }, actors.size === 0 ? 'Waiting for actors…' : 'Select an actor.'));
    return;
  }
  actor.definition ??= parseDefinition(actor.frame.definition);
  const entry = travel !== undefined ? actor.history[travel] : undefined;
  const snapshot = entry?.snapshot ?? snapshotAt(actor, travel) ?? actor.frame.snapshot;
  const active = new Set(activePaths(snapshot?.value));
  detail.replaceChildren(
    el('h2', {}, actor.frame.name, ' ', el('span', { class: 'tag' }, actor.frame.kind ?? ''), ' ', el('span', { id: 'current-state', class: 'value' }, stateText(snapshot?.value) || snapshot?.status || '')),
    travel !== undefined
      ? el('p', { class: 'travel' }, `Viewing the past (${shortTime(actor.history[travel].at)}). `, el('button', { type: 'button', onclick: () => { travel = undefined; render(); } }, 'Back to now'))
      : el('p', { class: 'note' }, `Live · session ${actor.frame.sessionId}`),
    actor.definition?.states ? el('div', { id: 'chart', class: 'chart' }, renderStates(actor.definition.states, '', active, actor.definition.initial)) : el('p', { class: 'note' }, 'Not a state machine (a promise or callback actor).'),
    el('div', { class: 'columns' },
      el('div', {}, el('h3', {}, 'Events and snapshots'), el('ol', { id: 'history', class: 'history' }, actor.history.map((item, index) => el('li', {},
        el('button', { type: 'button', class: index === travel ? 'selected' : '', onclick: () => { travel = index; render(); } },
          el('span', { class: 'mono' }, shortTime(item.at)), ' ', item.label))).reverse())),
      el('div', {}, el('h3', {}, 'Context'), el('pre', { id: 'context' }, JSON.stringify(snapshot?.context ?? null, null, 2)))),
  );
}

/** The snapshot in force at history entry `index`: the last snapshot at or before it. */
function snapshotAt(actor, index) {
  if (index === undefined) return undefined;
  for (let i = index; i >= 0; i--) if (actor.history[i].snapshot) return actor.history[i].snapshot;
  return undefined;
}

function parseDefinition(text) {
  try {
    return JSON.parse(text ?? 'null');
  } catch {
    return undefined;
  }
}

function targetsOf(transition) {
  const list = Array.isArray(transition) ? transition : [transition];
  return list.map((item) => {
    if (typeof item === 'string') return item;
    const target = item?.target;
    const text = Array.isArray(target) ? target.join(', ') : target ?? '(stays)';
    return item?.guard ? `${text} [${typeof item.guard === 'string' ? item.guard : item.guard.type ?? 'guard'}]` : text;
  }).join(' | ');
}

function transitionsOf(config) {
  const out = [];
  for (const [event, transition] of Object.entries(config.on ?? {})) out.push([event, targetsOf(transition)]);
  for (const [delay, transition] of Object.entries(config.after ?? {})) out.push([`after ${delay}`, targetsOf(transition)]);
  if (config.always) out.push(['always', targetsOf(config.always)]);
  const invokes = Array.isArray(config.invoke) ? config.invoke : config.invoke ? [config.invoke] : [];
  for (const invoke of invokes) {
    const name = typeof invoke.src === 'string' ? invoke.src : invoke.id ?? 'invoke';
    if (invoke.onDone) out.push([`done: ${name}`, targetsOf(invoke.onDone)]);
    if (invoke.onError) out.push([`error: ${name}`, targetsOf(invoke.onError)]);
  }
  return out;
}

/** Nested boxes, one per state, each listing its transitions; active states lit. */
function renderStates(states, prefix, active, initial) {
  return el('div', { class: 'states' }, Object.entries(states).map(([key, config]) => {
    const path = `${prefix}${key}`;
    const transitions = transitionsOf(config ?? {});
    return el('div', { class: `state${active.has(path) ? ' active' : ''}${key === initial ? ' initial' : ''}${config?.type === 'final' ? ' final' : ''}`, 'data-state': path },
      el('div', { class: 'state-name' }, key, config?.type === 'parallel' ? ' ∥' : ''),
      transitions.length > 0 ? el('ul', { class: 'transitions' }, transitions.map(([event, target]) => el('li', {}, el('span', { class: 'event' }, event), ' → ', target))) : undefined,
      config?.states ? renderStates(config.states, `${path}.`, active, config.initial) : undefined);
  }));
}

// stately.ai/inspect is fed by postMessage once it says it is connected, the way
// @statelyai/inspect's own server page relays a WebSocket to it; only when the browser is online.
function relayToStately(frame) {
  if (!stately.window || !stately.connected || !frame.type?.startsWith('@xstate.')) return;
  if (stately.window.closed) {
    stately.window = undefined;
    return;
  }
  stately.window.postMessage(frame, 'https://stately.ai');
}

window.addEventListener('message', (message) => {
  if (message.source !== stately.window || message.data?.type !== '@statelyai.connected') return;
  stately.connected = true;
  for (const actor of actors.values()) stately.window.postMessage(actor.frame, 'https://stately.ai');
});

document.getElementById('stately').addEventListener('click', () => {
  stately.connected = false;
  stately.window = window.open('https://stately.ai/inspect', 'stately-inspect');
});

showFinished.addEventListener('change', render);

filterForm.addEventListener('submit', (event) => {
  event.preventDefault();
  selected = undefined;
  connection?.close();
  connection = stream(() => `/v1/inspect${query()}`, { onFrame, onStatus: setStatus });
});

async function start(message) {
  if (!currentToken()) await askForToken(detail, message);
  // A refused WebSocket handshake looks like any dropped connection in a browser: check the token
  // over REST first, where a 401 is a 401.
  try {
    await api('/v1/containers');
  } catch (error) {
    if (error instanceof Unauthorized) {
      forgetToken();
      return start('The token was refused; enter the API token.');
    }
  }
  connection = stream(() => `/v1/inspect${query()}`, { onFrame, onStatus: setStatus });
}

void start();
