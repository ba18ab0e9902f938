import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { limitUnauthenticatedInput } from '../../../src/adapters/ws-transport/unauthenticated-input.ts';

/** Just enough of a net.Socket: 'data' events and destroy(). */
function fakeSocket(): Socket & { destroyed: boolean } {
  const socket = new EventEmitter() as EventEmitter & { destroyed: boolean; destroy(): void };
  socket.destroyed = false;
  socket.destroy = () => {
    socket.destroyed = true;
  };
  return socket as unknown as Socket & { destroyed: boolean };
}

function recorder(): { read: number[]; exceeded: number[]; events: { read(bytes: number): void; exceeded(total: number): void } } {
  const read: number[] = [];
  const exceeded: number[] = [];
  return { read, exceeded, events: { read: (bytes) => read.push(bytes), exceeded: (total) => exceeded.push(total) } };
}

describe('limitUnauthenticatedInput', () => {
  it('allows exactly the limit, destroys the socket on the byte past it, and stops counting', () => {
    const socket = fakeSocket();
    const seen = recorder();
    limitUnauthenticatedInput(socket, 100, seen.events);
    socket.emit('data', Buffer.alloc(60));
    socket.emit('data', Buffer.alloc(40));
    expect(socket.destroyed).toBe(false);
    socket.emit('data', Buffer.alloc(1));
    expect(socket.destroyed).toBe(true);
    expect(seen.exceeded).toEqual([101]);
    socket.emit('data', Buffer.alloc(5000));
    expect(seen.read).toEqual([60, 40, 1]);
    expect(seen.exceeded).toEqual([101]);
    expect(socket.listenerCount('data')).toBe(0);
  });

  it('stops counting once released, even for a chunk already being delivered', () => {
    const socket = fakeSocket();
    const seen = recorder();
    // Like ws: a listener registered first authenticates the peer from the chunk and releases the limit.
    let release = (): void => undefined;
    socket.on('data', () => release());
    release = limitUnauthenticatedInput(socket, 10, seen.events);
    socket.emit('data', Buffer.alloc(1_000_000));
    expect(socket.destroyed).toBe(false);
    expect(seen.read).toEqual([]);
    expect(socket.listenerCount('data')).toBe(1);
  });
});
