import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Ports are drawn below the kernel's ephemeral range. A port the OS picked with listen(0) comes
 * from that range, and once a member we started is killed, any outgoing connection on the machine
 * may take its port as a source port before the member restarts on it (seen: EADDRINUSE when a
 * Raft member came back during a loaded run). Below the range only another explicit bind can.
 */
const lowestPort = 10_000;
const handedOut = new Set<number>();

function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > lowestPort + 1000 ? low : 32_768;
  } catch {
    return 32_768; // Linux's default
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago, never handed out twice by this process. */
export async function freeLoopbackPort(): Promise<number> {
  const highest = ephemeralRangeStart() - 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = lowestPort + Math.floor(Math.random() * (highest - lowestPort + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
  throw new Error(`could not find a free loopback port between ${lowestPort} and ${highest}`);
}
