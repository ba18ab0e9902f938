import { describe, expect, it } from 'vitest';
import { composeCodes } from '../../../src/compose/compose-codes.ts';
import { loadErrors, loadOk, service, serviceErrors } from './load-helper.ts';

// On one node a host port can be bound once: a file that binds one twice is refused at load
// time, instead of being accepted and then failing "port is already allocated" forever.
describe('host ports within one stack', () => {
  it('a fixed mode: host port with several replicas is refused at the ports entry', () => {
    const errors = loadErrors('services:\n  web:\n    image: x\n    ports:\n      - { target: 9000, published: 9000, mode: host }\n      - { target: 80, published: 8080, mode: host }\n    deploy: { replicas: 3 }\n', { file: 'compose.yaml' });
    expect(errors).toEqual([expect.objectContaining({
      code: composeCodes.portConflict, file: 'compose.yaml', line: 5, path: 'services.web.ports[0]', service: 'web',
    }), expect.objectContaining({ code: composeCodes.portConflict, path: 'services.web.ports[1]' })]);
    expect(errors[1]!.message).toContain('8080/tcp');
    expect(errors[1]!.message).toContain('3 replicas');
    expect(errors[1]!.message).toContain('ingress mode');
  });

  it('an ingress port (the default) is served by every node\'s forwarder: any replica count may publish it', () => {
    expect(service('image: x\nports: ["9000:9000", "8080:80", "8000-8001:80-81/udp"]\ndeploy: { replicas: 3 }').ports).toHaveLength(4);
    expect(service('image: x\nports: [{ target: 80, published: 8080 }]\nscale: 2').ports).toEqual([{ target: 80, published: 8080, protocol: 'tcp', mode: 'ingress' }]);
  });

  it('host-mode ranges, SCTP ports (bound directly, no forwarder) and scale count too', () => {
    expect(serviceErrors('image: x\nports: [{ target: 80, published: 8000, mode: host }]\ndeploy: { replicas: 2 }')[0]!.message).toContain('8000/tcp');
    expect(serviceErrors('image: x\nports: ["8000-8001:80-81/sctp"]\ndeploy: { replicas: 2 }')[0]!.message).toContain('8000-8001/sctp');
    expect(serviceErrors('image: x\nports: [{ target: 80, published: 8080, mode: host }]\nscale: 2')[0]!.code).toBe(composeCodes.portConflict);
  });

  it('ephemeral host ports are fine with any replica count; a fixed one with one replica, global mode or none', () => {
    expect(service('image: x\nports: ["80", "127.0.0.1::81", { target: 82 }, 83]\ndeploy: { replicas: 5 }').ports).toHaveLength(4);
    expect(service('image: x\nports: ["8080:80"]').ports).toHaveLength(1);
    expect(service('image: x\nports: ["8080:80"]\ndeploy: { mode: global }').ports).toHaveLength(1);
    expect(service('image: x\nports: ["8080:80"]\ndeploy: { replicas: 0 }').ports).toHaveLength(1);
  });

  it('two services publishing one host port: named with both keys and the first one\'s line', () => {
    const errors = loadErrors('services:\n  api:\n    image: x\n    ports: ["8080:80"]\n  web:\n    image: y\n    ports:\n      - "8080:8080"\n', { file: 'compose.yaml' });
    expect(errors).toEqual([expect.objectContaining({ code: composeCodes.portConflict, line: 8, path: 'services.web.ports[0]', service: 'web' })]);
    expect(errors[0]!.message).toContain('service "api" (services.api.ports[0], line 4)');
    expect(errors[0]!.message).toContain('8080/tcp');
  });

  it('overlapping ranges report the overlap once per pair of entries', () => {
    const errors = loadErrors('services:\n  a: { image: x, ports: ["8000-8010:8000-8010"] }\n  b: { image: x, ports: ["8008-8012:80-84"] }\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('host port 8008-8010/tcp');
  });

  it('a service scaled to zero binds nothing, so it shares a host port with one that runs', () => {
    expect(loadOk('services:\n  blue: { image: x, ports: ["8080:80"] }\n  green: { image: x, ports: ["8080:80"], deploy: { replicas: 0 } }\n').stack.services).toHaveLength(2);
  });

  it('two entries of one service publishing one host port are refused', () => {
    expect(serviceErrors('image: x\nports: ["8080:80", "8080:81"]')[0]).toMatchObject({ code: composeCodes.portConflict, path: 'services.svc.ports[1]' });
  });

  it.each([
    ['8080:80', '8080:80/udp'],
    ['127.0.0.1:8080:80', '127.0.0.2:8080:80'],
    ['0.0.0.0:8080:80', '[::1]:8080:80'],
    ['[::]:8080:80', '10.0.0.1:8080:80'],
    ['8080:80', '8081:80'],
  ])('%s and %s do not conflict', (a, b) => {
    expect(loadOk(`services:\n  a: { image: x, ports: ["${a}"] }\n  b: { image: x, ports: ["${b}"] }\n`).stack.services).toHaveLength(2);
  });

  it.each([
    ['8080:80', '127.0.0.1:8080:80'],
    ['127.0.0.1:8080:80', '8080:80'],
    ['0.0.0.0:8080:80', '127.0.0.1:8080:80'],
    ['127.0.0.1:8080:80', '0.0.0.0:8080:80'],
    ['[::]:8080:80', '[::1]:8080:80'],
    ['[::1]:8080:80', '[::1]:8080:81'],
    ['[::1]:8080:80', '8080:81'],
    ['8080:80/udp', '8080:53/udp'],
  ])('%s and %s conflict', (a, b) => {
    expect(loadErrors(`services:\n  a: { image: x, ports: ["${a}"] }\n  b: { image: x, ports: ["${b}"] }\n`)[0]!.code).toBe(composeCodes.portConflict);
  });
});
