import { WebSocket } from 'ws';
import { expect } from 'vitest';

/** A raw WebSocket client that records every text frame, parsed, and how the socket closed. */
export interface RecordingClient {
  readonly socket: WebSocket;
  readonly frames: Record<string, unknown>[];
  readonly texts: string[];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

export function recordingClient(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): RecordingClient {
  const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
  const frames: Record<string, unknown>[] = [];
  const texts: string[] = [];
  socket.on('message', (data, isBinary) => {
    if (isBinary) throw new Error('the inspector sent a binary frame');
    const text = String(data);
    texts.push(text);
    frames.push(JSON.parse(text) as Record<string, unknown>);
  });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_request, response) => reject(new Error(`handshake refused: ${response.statusCode}`)));
    socket.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  opened.catch(() => undefined);
  return { socket, frames, texts, opened, closed };
}

/** The status a refused handshake got. */
export function refusedStatus(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      socket.close();
      reject(new Error('the handshake was accepted'));
    });
    socket.once('error', () => undefined);
  });
}

/** Checks one frame against @statelyai/inspect 0.7's wire format. */
export function expectWireFrame(frame: Record<string, unknown>): void {
  if (frame.type === '@constellation.replayed') return;
  expect(['@xstate.actor', '@xstate.event', '@xstate.snapshot']).toContain(frame.type);
  expect(typeof frame.sessionId).toBe('string');
  expect(typeof frame.rootId).toBe('string');
  expect(frame.createdAt).toMatch(/^\d{13}$/);
  expect(typeof frame.id).toBe('string');
  expect(frame._version).toMatch(/^0\.7\./);
  if (frame.type === '@xstate.actor') {
    expect(typeof frame.name).toBe('string');
    expect(typeof frame.definition).toBe('string');
    const definition = JSON.parse(frame.definition as string) as { id?: unknown };
    expect(typeof definition.id).toBe('string');
    expect(frame.snapshot).toBeTypeOf('object');
    expect(frame.parentId === undefined || typeof frame.parentId === 'string').toBe(true);
  } else if (frame.type === '@xstate.event') {
    expect((frame.event as { type?: unknown }).type).toBeTypeOf('string');
  } else {
    expect(frame.snapshot).toBeTypeOf('object');
    expect(frame.event).toBeTypeOf('object');
  }
}
