// Shared by the daemon's pages (served from the daemon itself, no CDN, no build step): the API
// token, REST calls and WebSocket streams with reconnection.

const tokenKey = 'constellation-api-token';

/** Fragment parameters (`#token=…&kind=…`): never sent to the server, so the token may ride there. */
export function fragmentParams() {
  return new URLSearchParams(location.hash.slice(1));
}

/**
 * The token: from the fragment (then removed from the address bar and kept for this tab only),
 * else from this tab's storage. `constellation inspect` prints a URL that carries it.
 */
export function currentToken() {
  const params = fragmentParams();
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(tokenKey, fromUrl);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  }
  return sessionStorage.getItem(tokenKey) ?? '';
}

export function forgetToken() {
  sessionStorage.removeItem(tokenKey);
}

export class Unauthorized extends Error {}

export async function api(path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${currentToken()}`, accept: 'application/json' } });
  if (response.status === 401) throw new Unauthorized('the API token was refused');
  const body = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = new Error(body?.error?.message ?? `HTTP ${response.status}`);
    error.code = body?.error?.code;
    error.status = response.status;
    throw error;
  }
  return body;
}

function base64url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * A WebSocket to the daemon that reconnects with back-off. A browser cannot set headers on a
 * WebSocket, so the token travels as a subprotocol next to `constellation.v1` (the one the
 * server selects). `pathFor()` is asked again at every reconnect (e.g. to resume with ?since=).
 */
export function stream(pathFor, { onFrame, onStatus }) {
  let socket;
  let delayMs = 500;
  let stopped = false;
  const connect = () => {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${pathFor()}`;
    socket = new WebSocket(url, ['constellation.v1', `constellation.bearer.${base64url(currentToken())}`]);
    onStatus('connecting');
    socket.onopen = () => {
      delayMs = 500;
      onStatus('live');
    };
    socket.onmessage = (message) => onFrame(JSON.parse(message.data));
    socket.onclose = (event) => {
      if (stopped) return;
      onStatus(event.reason ? `disconnected: ${event.reason}` : 'disconnected');
      setTimeout(connect, delayMs);
      delayMs = Math.min(delayMs * 2, 10_000);
    };
  };
  connect();
  return {
    close() {
      stopped = true;
      socket?.close();
    },
  };
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

/** Shows the login form in `root` when there is no token or it was refused; resolves once one is given. */
export function askForToken(root, message) {
  return new Promise((resolve) => {
    const input = el('input', { type: 'password', id: 'token-input', placeholder: 'API token', autocomplete: 'off' });
    const form = el('form', { class: 'login', onsubmit: (event) => {
      event.preventDefault();
      sessionStorage.setItem(tokenKey, input.value.trim());
      form.remove();
      resolve();
    } },
    el('h2', {}, 'Sign in'),
    el('p', {}, message ?? 'This daemon needs its API token (npx constellation inspect prints a link with it, or read it from <dataDir>/api-token).'),
    input,
    el('button', { type: 'submit' }, 'Open'));
    root.replaceChildren(form);
    input.focus();
  });
}

export function shortTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

// A link with a new token opened on a page already shown changes only the fragment: start over.
window.addEventListener('hashchange', () => {
  if (fragmentParams().has('token')) location.reload();
});
