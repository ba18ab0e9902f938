import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { EventStreamFollower, parseEngineEvent } from '../../src/adapters/docker/event-stream.ts';
import { dockerOptionsFor } from '../../src/adapters/docker/docker-host.ts';
import type { RuntimeEvent } from '../../src/seams/container-runtime.ts';

// Pure parsing of the engine's stream formats; lives with the runtime tests, needs no engine.
const dieEvent = {
  status: 'die',
  id: 'abc123',
  from: 'busybox',
  Type: 'container',
  Action: 'die',
  Actor: { ID: 'abc123', Attributes: { exitCode: '137', image: 'busybox', name: 'web_1', 'constellation.stack': 'shop' } },
  scope: 'local',
  time: 1_700_000_000,
  // Real timeNano values exceed 2^53 and lose precision in JSON.parse, as here; ms precision survives.
  timeNano: Number('1700000000123456789'),
};

describe('engine event parsing', () => {
  it('keeps labels, drops engine attributes, reads the exit code and the time in ms', () => {
    expect(parseEngineEvent(dieEvent)).toEqual({
      action: 'die',
      containerId: 'abc123',
      labels: { 'constellation.stack': 'shop' },
      exitCode: 137,
      timeMs: 1_700_000_000_123,
    });
  });

  it('reads the health state from "health_status: ..." actions', () => {
    expect(parseEngineEvent({ ...dieEvent, Action: 'health_status: unhealthy' })).toMatchObject({ action: 'health_status', health: 'unhealthy' });
  });

  it('ignores exec events, other object types and junk', () => {
    expect(parseEngineEvent({ ...dieEvent, Action: 'exec_start: sh -c true' })).toBeUndefined();
    expect(parseEngineEvent({ ...dieEvent, Type: 'network', Action: 'connect' })).toBeUndefined();
    expect(parseEngineEvent(null)).toBeUndefined();
    expect(parseEngineEvent('die')).toBeUndefined();
  });

  it('reassembles events split across chunks, and several in one chunk', () => {
    const events: RuntimeEvent[] = [];
    const ends: (Error | undefined)[] = [];
    const follower = new EventStreamFollower({ onEvent: (event) => events.push(event), onEnd: (error) => ends.push(error) });
    const stream = new PassThrough();
    follower.attach(stream);
    const line = `${JSON.stringify(dieEvent)}\n`;
    const bytes = Buffer.from(line + line.replace('"die"', '"start"').replace('Action":"die', 'Action":"start'));
    // Split inside a JSON document and inside a multi-byte boundary-free region.
    stream.write(bytes.subarray(0, 17));
    stream.write(bytes.subarray(17, line.length + 5));
    stream.write(bytes.subarray(line.length + 5));
    stream.end();
    return new Promise<void>((resolve) => {
      stream.on('close', () => {
        expect(events.map((event) => event.action)).toEqual(['die', 'start']);
        expect(ends).toEqual([undefined]);
        resolve();
      });
    });
  });

  it('ends once with an error when the stream fails, and never after close()', () => {
    const ends: (Error | undefined)[] = [];
    const follower = new EventStreamFollower({ onEvent: () => undefined, onEnd: (error) => ends.push(error) });
    const stream = new PassThrough();
    follower.attach(stream);
    stream.destroy(new Error('socket hang up'));
    return new Promise<void>((resolve) => {
      stream.on('close', () => {
        expect(ends.map((error) => error?.message)).toEqual(['socket hang up']);
        const closed = new EventStreamFollower({ onEvent: () => undefined, onEnd: (error) => ends.push(error) });
        const other = new PassThrough();
        closed.attach(other);
        closed.close();
        other.on('close', () => {
          expect(ends).toHaveLength(1);
          resolve();
        });
      });
    });
  });

  it('ends the stream on a corrupt line instead of guessing', () => {
    const ends: (Error | undefined)[] = [];
    const follower = new EventStreamFollower({ onEvent: () => undefined, onEnd: (error) => ends.push(error) });
    const stream = new PassThrough();
    follower.attach(stream);
    stream.write('{"Type":"container",\n');
    expect(ends[0]?.message).toMatch(/unreadable Docker event/);
  });
});

describe('docker host addresses', () => {
  it('accepts unix://, a bare socket path and tcp://host:port', () => {
    expect(dockerOptionsFor('unix:///var/run/docker.sock')).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(dockerOptionsFor('/tmp/d.sock')).toEqual({ socketPath: '/tmp/d.sock' });
    expect(dockerOptionsFor('tcp://10.0.0.5:2375')).toEqual({ host: '10.0.0.5', port: 2375, protocol: 'http' });
    expect(dockerOptionsFor('tcp://[::1]:2375')).toEqual({ host: '::1', port: 2375, protocol: 'http' });
  });

  it('refuses anything else with a message saying what is expected', () => {
    expect(() => dockerOptionsFor('docker.sock')).toThrow(/expected unix:\/\/\/path/);
    expect(() => dockerOptionsFor('tcp://host')).toThrow(/invalid Docker host "tcp:\/\/host"/);
    expect(() => dockerOptionsFor('tcp://host:70000')).toThrow(/out of range/);
    expect(() => dockerOptionsFor('unix://')).toThrow(/needs a socket path/);
  });
});
