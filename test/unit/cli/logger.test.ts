import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { componentLogger, createLogger } from '../../../src/log/create-logger.ts';

function capture() {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk) => chunks.push(String(chunk)));
  return { stream, text: () => chunks.join('') };
}

describe('daemon logger', () => {
  it('writes one JSON object per line when not on a terminal (auto), with component children', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', format: 'auto', destination: out.stream, isTty: false });
    componentLogger(logger, 'api').info({ address: 'http://127.0.0.1:1' }, 'api listening');
    logger.debug('hidden below the level');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, component: 'api', msg: 'api listening', address: 'http://127.0.0.1:1' });
  });

  it('pretty-prints on a terminal (auto) or when asked', () => {
    for (const options of [{ format: 'auto' as const, isTty: true }, { format: 'pretty' as const, isTty: false }]) {
      const out = capture();
      createLogger({ level: 'debug', destination: out.stream, ...options }).debug({ stack: 'web' }, 'deploy accepted');
      const text = out.text();
      expect(text).toContain('deploy accepted');
      expect(text).toContain('stack');
      expect(() => JSON.parse(text)).toThrow();
    }
  });

  it('json stays json on a terminal when asked', () => {
    const out = capture();
    createLogger({ level: 'info', format: 'json', destination: out.stream, isTty: true }).info('x');
    expect(JSON.parse(out.text())).toMatchObject({ msg: 'x' });
  });

  it('refuses an unknown level by name', () => {
    expect(() => createLogger({ level: 'loud', format: 'json' })).toThrow('unknown log level "loud"');
  });
});
