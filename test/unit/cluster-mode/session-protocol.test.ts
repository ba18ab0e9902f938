import { describe, expect, it } from 'vitest';
import { checkManagerProof, managerProof, parseManagerFrame, parseWorkerFrame, SessionFrameError } from '../../../src/cluster-mode/worker/session-protocol.ts';

function errorOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(SessionFrameError);
    return (error as Error).message;
  }
  throw new Error('parsed');
}

describe('worker session frames', () => {
  it('every malformed manager frame is refused with the field that is wrong', () => {
    expect(errorOf(() => parseManagerFrame('{'))).toBe('frame is not JSON');
    expect(errorOf(() => parseManagerFrame('[]'))).toBe('frame must be an object');
    expect(errorOf(() => parseManagerFrame('{"t":"reboot"}'))).toBe('unknown frame type "reboot"');
    expect(errorOf(() => parseManagerFrame('{"t":"welcome","managerId":"m","proof":"p","managers":[{"id":1}]}'))).toBe('welcome.managers[0] must be {id, address}');
    expect(errorOf(() => parseManagerFrame('{"t":"assign","full":true,"upsert":[],"remove":[3]}'))).toBe('assign.remove[0] must be a stack name');
    expect(errorOf(() => parseManagerFrame('{"t":"ingress"}'))).toBe('ingress needs listeners[]');
    const listener = { key: 'tcp/*/8080', protocol: 'tcp', published: 8080, stack: 'a', service: 'web', target: 80, backends: [{ host: '10.0.0.2', port: 32768, replica: 'a_web_1', node: 'n2' }] };
    expect(parseManagerFrame(JSON.stringify({ t: 'ingress', listeners: [listener] }))).toEqual({ t: 'ingress', listeners: [listener] });
    expect(errorOf(() => parseManagerFrame(JSON.stringify({ t: 'ingress', listeners: [{ ...listener, protocol: 'sctp' }] })))).toBe('ingress.listeners[0] needs key, protocol (tcp|udp), published, stack, service, target and backends[]');
    expect(errorOf(() => parseManagerFrame(JSON.stringify({ t: 'ingress', listeners: [{ ...listener, backends: [{ host: 'x' }] }] })))).toBe('ingress.listeners[0].backends[0] must be {host, port, replica, node}');
    const stack = { name: 'a', version: 1, specHash: 'h', updatedAtMs: 1, spec: { name: 'a', services: [] }, placements: { web: { stackVersion: 1, version: 1, slots: { 0: 'w1' } } } };
    expect(errorOf(() => parseManagerFrame(JSON.stringify({ t: 'assign', full: false, upsert: [stack], remove: [] })))).toBe('assign.upsert[0].placements.web.slots.0 must map a slot number to a node id');
    expect(errorOf(() => parseManagerFrame(JSON.stringify({ t: 'assign', full: false, upsert: [{ ...stack, spec: { name: 'b', services: [] } }], remove: [] })))).toBe("assign.upsert[0].spec must be the stack's spec with its services");
    expect(errorOf(() => parseManagerFrame('{"t":"ack"}'))).toBe('ack needs needFull');
    expect(parseManagerFrame('{"t":"ack","needFull":false,"lease":3}')).toEqual({ t: 'ack', needFull: false, lease: 3 });
    expect(errorOf(() => parseManagerFrame('{"t":"ack","needFull":false,"lease":"3"}'))).toBe('ack.lease must be a beat number');
  });

  it('a worker sends beats only, with a status of containers and services or none', () => {
    expect(parseWorkerFrame('{"t":"beat"}')).toEqual({ t: 'beat' });
    expect(parseWorkerFrame('{"t":"beat","status":{"containers":[],"services":[]}}')).toEqual({ t: 'beat', status: { containers: [], services: [] } });
    expect(parseWorkerFrame('{"t":"beat","n":7}')).toEqual({ t: 'beat', n: 7 });
    expect(parseWorkerFrame('{"t":"beat","n":8,"engineDown":true}')).toEqual({ t: 'beat', n: 8, engineDown: true });
    expect(errorOf(() => parseWorkerFrame('{"t":"beat","engineDown":"yes"}'))).toBe('beat.engineDown must be a boolean');
    expect(errorOf(() => parseWorkerFrame('{"t":"beat","n":-1}'))).toBe('beat.n must be a non-negative integer');
    expect(errorOf(() => parseWorkerFrame('{"t":"assign"}'))).toBe('a worker sends only {t: "beat", status?, n?}');
    expect(errorOf(() => parseWorkerFrame('{"t":"beat","status":{"containers":{}}}'))).toBe('beat.status must be {containers: [], services: []}');
  });

  it("the manager's proof holds only for this key, nonce, worker and manager", () => {
    const proof = managerProof('key', 'n1', 'w1', 'm1');
    expect(checkManagerProof('key', 'n1', 'w1', 'm1', proof)).toBe(true);
    expect(checkManagerProof('other', 'n1', 'w1', 'm1', proof)).toBe(false);
    expect(checkManagerProof('key', 'n2', 'w1', 'm1', proof)).toBe(false);
    expect(checkManagerProof('key', 'n1', 'w2', 'm1', proof)).toBe(false);
    expect(checkManagerProof('key', 'n1', 'w1', 'm2', proof)).toBe(false);
    expect(checkManagerProof('key', 'n1', 'w1', 'm1', 'zz')).toBe(false);
  });
});
