/**
 * `network_mode` → the engine's NetworkMode, or a refusal. What is honoured means the same on
 * every node; what is refused would run the service somewhere the file did not put it:
 *
 *   host     honoured: the node's network stack (published ports are meaningless there: warned)
 *   none     honoured: loopback only
 *   bridge   honoured: the engine's default bridge, outside the stack's networks (so other
 *            services cannot reach it by name), as with `docker run --network bridge`
 *   default  the same as bridge (the engine's name for its default network)
 *   service:X, container:X  kept as written here; check-vpn-groups.ts, with the whole stack in
 *            view, makes the service a dependent of X's VPN group (container:NAME only when NAME
 *            is a service of this stack or its container_name) or refuses it
 *   any other name  refused: a network of the engine is named under `networks:` with
 *            `external: true`, which is honoured
 */
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';

const honoured = new Set(['host', 'none', 'bridge', 'default']);

/** `service:X` / `container:X` → which form and X; undefined for any other mode. */
export function sharedNamespaceOf(mode: string | undefined): { readonly kind: 'service' | 'container'; readonly target: string } | undefined {
  const shared = mode === undefined ? null : /^(service|container):(.*)$/.exec(mode);
  return shared ? { kind: shared[1] as 'service' | 'container', target: shared[2]! } : undefined;
}

export function normalizeNetworkMode(raw: unknown, hasPorts: boolean, ctx: NormalizeContext): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const path = [...ctx.servicePath, 'network_mode'];
  const mode = raw.trim();
  if (honoured.has(mode)) {
    if (mode === 'host' && hasPorts) {
      ctx.sink.warning([...ctx.servicePath, 'ports'], composeCodes.ignoredKey,
        '"ports" are not published with network_mode "host": the service listens on the node\'s own ports');
    }
    return mode;
  }
  const shared = sharedNamespaceOf(mode);
  if (shared) {
    if (shared.target.trim() === '') {
      ctx.sink.error(path, composeCodes.networkModeUnsupported,
        `network_mode "${mode}" names no ${shared.kind}: write "${shared.kind}:<name of a service of this stack>"`);
      return undefined;
    }
    return `${shared.kind}:${shared.target.trim()}`;
  }
  ctx.sink.error(path, composeCodes.networkModeUnsupported,
    `network_mode "${mode}" is not supported: use "host", "none" or "bridge", "service:<service>" to share another service's network namespace, ` +
    `or attach the service to an existing engine network with "networks: [${mode}]" and a top-level "networks: { ${mode}: { external: true } }"`);
  return undefined;
}
