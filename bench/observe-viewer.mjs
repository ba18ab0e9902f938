// The inspection viewers of bench:observe: `count` WebSocket clients in one worker thread, so
// that reading and parsing frames does not run on the daemon's event loop (a real viewer is
// another process, often on another machine) and ten viewers do not take ten threads from the
// two cores the daemon shares with them. The last viewer reports the absolute arrival time of
// each HEALTH event frame of the probe container.
// Plain JavaScript: a worker thread does not inherit the tsx loader of the benchmark process.
import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';

const { url, token, probeName, count } = workerData;
const now = () => performance.timeOrigin + performance.now();
let ready = 0;
const sockets = Array.from({ length: count }, (_, index) => {
  const reportsProbes = index === count - 1;
  let probeSession;
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  socket.on('message', (data) => {
    const frame = JSON.parse(String(data));
    if (frame.type === '@xstate.actor' && frame.name?.startsWith(`container.${probeName}.`)) probeSession = frame.sessionId;
    else if (frame.type === '@constellation.replayed' && ++ready === count) parentPort.postMessage({ type: 'ready' });
    else if (reportsProbes && frame.type === '@xstate.event' && frame.sessionId === probeSession && frame.event?.type === 'HEALTH') parentPort.postMessage({ type: 'probe', at: now() });
  });
  socket.on('close', (code, reason) => parentPort.postMessage({ type: 'closed', code, reason: String(reason) }));
  return socket;
});
parentPort.on('message', (message) => {
  if (message.type === 'stop') for (const socket of sockets) socket.close();
});
