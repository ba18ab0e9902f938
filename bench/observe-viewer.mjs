// One inspection viewer of bench:observe, in a worker thread so that reading and parsing frames
// does not run on the daemon's event loop (a real viewer is another process, often another machine).
// It reports, for the probe container, the absolute arrival time of each HEALTH event frame.
// Plain JavaScript: a worker thread does not inherit the tsx loader of the benchmark process.
import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';

const { url, token, probeName } = workerData;
const now = () => performance.timeOrigin + performance.now();
let probeSession;
let frames = 0;
const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
socket.on('message', (data) => {
  frames++;
  const frame = JSON.parse(String(data));
  if (frame.type === '@xstate.actor' && frame.name?.startsWith(`container.${probeName}.`)) probeSession = frame.sessionId;
  else if (frame.type === '@constellation.replayed') parentPort.postMessage({ type: 'ready' });
  else if (frame.type === '@xstate.event' && frame.sessionId === probeSession && frame.event?.type === 'HEALTH') parentPort.postMessage({ type: 'probe', at: now() });
});
socket.on('close', (code, reason) => parentPort.postMessage({ type: 'closed', code, reason: String(reason), frames }));
parentPort.on('message', (message) => {
  if (message.type === 'stop') socket.close();
});
