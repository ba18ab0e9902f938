/**
 * `network_mode` → the engine's NetworkMode, or a refusal. What is honoured means the same on
 * every node; what is refused would run the service somewhere the file did not put it:
 *
 *   host     honoured: the node's network stack (published ports are meaningless there: warned)
 *   none     honoured: loopback only
 *   bridge   honoured: the engine's default bridge, outside the stack's networks (so other
 *            services cannot reach it by name), as with `docker run --network bridge`
 *   default  the same as bridge (the engine's name for its default network)
 *   service:X, container:X  refused until Constellation can place a dependent beside X and follow
 *            X across restarts: a service written to share a VPN container's namespace must never
 *            run on any other network, where its traffic would bypass the tunnel
 *   any other name  refused: a network of the engine is named under `networks:` with
 *            `external: true`, which is honoured
 */
import { composeCodes } from './compose-codes.ts';
import type { NormalizeContext } from './normalize-context.ts';

const honoured = new Set(['host', 'none', 'bridge', 'default']);

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
  const shared = /^(service|container):(.*)$/.exec(mode);
  if (shared) {
    ctx.sink.error(path, composeCodes.networkModeUnsupported,
      `network_mode "${mode}" is not supported yet: service "${ctx.service}" would share the network namespace of ${shared[1]} "${shared[2]}" ` +
      '(e.g. a VPN container), which Constellation cannot guarantee on a cluster; it is refused rather than run on another network, where its traffic would bypass it');
    return undefined;
  }
  ctx.sink.error(path, composeCodes.networkModeUnsupported,
    `network_mode "${mode}" is not supported: use "host", "none" or "bridge", or attach the service to an existing engine network with ` +
    `"networks: [${mode}]" and a top-level "networks: { ${mode}: { external: true } }"`);
  return undefined;
}
