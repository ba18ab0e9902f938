import type { DockerOptions } from 'dockerode';
import { RuntimeError } from '../../seams/container-runtime.ts';

/**
 * Connection options for a DOCKER_HOST-style address: `unix:///path`, a bare socket path, or
 * `tcp://host:port` (plain HTTP; `http://` and `https://` are accepted too).
 */
export function dockerOptionsFor(dockerHost: string): DockerOptions {
  const host = dockerHost.trim();
  if (host.startsWith('unix://')) {
    const socketPath = host.slice('unix://'.length);
    if (socketPath === '') throw invalid(dockerHost, 'unix:// needs a socket path, e.g. unix:///var/run/docker.sock');
    return { socketPath };
  }
  if (host.startsWith('/')) return { socketPath: host };
  const match = /^(tcp|http|https):\/\/([^/:]+|\[[^\]]+\]):(\d+)\/?$/.exec(host);
  if (match !== null) {
    const [, scheme = 'tcp', hostname = '', portText = ''] = match;
    const port = Number(portText);
    if (port < 1 || port > 65535) throw invalid(dockerHost, `port ${portText} is out of range`);
    return { host: hostname.replace(/^\[|\]$/g, ''), port, protocol: scheme === 'https' ? 'https' : 'http' };
  }
  throw invalid(dockerHost, 'expected unix:///path/to/docker.sock, /path/to/docker.sock or tcp://host:port');
}

function invalid(dockerHost: string, why: string): RuntimeError {
  return new RuntimeError('invalid_request', 'connect', `invalid Docker host "${dockerHost}": ${why}`);
}
