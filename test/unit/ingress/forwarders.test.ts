import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../../src/ingress/ingress-table.ts';
import { TcpForwarder } from '../../../src/ingress/tcp-forwarder.ts';
import { UdpForwarder } from '../../../src/ingress/udp-forwarder.ts';
import { freeLoopbackPort } from '../../support/free-port.ts';

const logger = pino({ level: 'silent' });
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A TCP server that answers every connection with its name, then echoes until the client ends. */
async function namedServer(name: string): Promise<Backend & { server: net.Server }> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.write(`${name}:`);
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, replica: name, node: 'n1', server };
}

async function tcpForwarder(backends: Backend[]): Promise<{ forwarder: TcpForwarder; port: number }> {
  const port = await freeLoopbackPort();
  const forwarder = new TcpForwarder({ port, host: '127.0.0.1', logger, connectTimeoutMs: 500 });
  await forwarder.listen();
  forwarder.setBackends(backends);
  cleanup.push(() => forwarder.close());
  return { forwarder, port };
}

/** Sends `text`, half-closes, and returns everything the other side answered before closing. */
async function exchange(port: number, text: string): Promise<string> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.end(text);
  const closed = once(socket, 'close');
  socket.on('error', () => socket.destroy());
  await closed;
  return Buffer.concat(chunks).toString('utf8');
}

describe('tcp forwarder', () => {
  it('splices each connection to the backends in turn; data flows both ways, half-close included', async () => {
    const a = await namedServer('a');
    const b = await namedServer('b');
    const { port } = await tcpForwarder([a, b]);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await exchange(port, `hello ${i}`));
    expect(answers).toEqual(['a:hello 0', 'b:hello 1', 'a:hello 2', 'b:hello 3']);
  });

  it('a backend that refuses the connect is skipped for the next one, before any client byte is lost', async () => {
    const dead = { host: '127.0.0.1', port: await freeLoopbackPort(), replica: 'dead', node: 'n1' };
    const b = await namedServer('b');
    const { forwarder, port } = await tcpForwarder([dead, b]);
    expect(await exchange(port, 'x')).toBe('b:x');
    expect(await exchange(port, 'y')).toBe('b:y');
    expect(forwarder.failedConnections).toBe(0);
  });

  it('no backend: the connection is closed at once and counted as failed', async () => {
    const { forwarder, port } = await tcpForwarder([]);
    expect(await exchange(port, 'x')).toBe('');
    expect(forwarder.failedConnections).toBe(1);
  });

  it('a backend that leaves the set gets no new connection, while one it already carries runs to its end', async () => {
    const a = await namedServer('a');
    const b = await namedServer('b');
    const { forwarder, port } = await tcpForwarder([a]);
    const open = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const received: Buffer[] = [];
    open.on('data', (chunk: Buffer) => received.push(chunk));
    await once(open, 'data');
    forwarder.setBackends([b]);
    expect(await exchange(port, 'new')).toBe('b:new');
    open.end('still here');
    await once(open, 'close');
    expect(Buffer.concat(received).toString('utf8')).toBe('a:still here');
  });

  it('a port another socket holds is a listen error for the caller', async () => {
    const { port } = await tcpForwarder([]);
    const second = new TcpForwarder({ port, host: '127.0.0.1', logger });
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});

describe('udp forwarder', () => {
  async function udpEcho(name: string): Promise<Backend> {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (message, from) => socket.send(`${name}:${message.toString('utf8')}`, from.port, from.address));
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    return { host: '127.0.0.1', port: socket.address().port, replica: name, node: 'n1' };
  }

  async function client(): Promise<{ ask(port: number, text: string): Promise<string> }> {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    cleanup.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
    return {
      ask: async (port, text) => {
        const answer = once(socket, 'message');
        socket.send(text, port, '127.0.0.1');
        const [message] = (await answer) as [Buffer];
        return message.toString('utf8');
      },
    };
  }

  it('a client\'s flow sticks to one backend; a new client takes the next; answers come from the published port', async () => {
    const a = await udpEcho('a');
    const b = await udpEcho('b');
    const port = await freeLoopbackPort();
    const forwarder = new UdpForwarder({ port, host: '127.0.0.1', logger });
    await forwarder.listen();
    forwarder.setBackends([a, b]);
    cleanup.push(() => forwarder.close());
    const first = await client();
    const second = await client();
    expect(await first.ask(port, '1')).toBe('a:1');
    expect(await first.ask(port, '2')).toBe('a:2');
    expect(await second.ask(port, '3')).toBe('b:3');
    // Its backend left: the flow moves on its next datagram.
    forwarder.setBackends([b]);
    expect(await first.ask(port, '4')).toBe('b:4');
  });
});
