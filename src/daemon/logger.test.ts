import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAccessLogger, createLogger } from './logger.js';

function captured() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('daemon logger', () => {
  it('redacts secrets at the top level and one level down', () => {
    const { lines, logger } = captured();
    logger.info({ token: 'T', headers: { authorization: 'A' }, signer: { privateKey: 'K' } }, 'probe');
    expect(lines[0]).toMatchObject({
      token: '[redacted]',
      headers: { authorization: '[redacted]' },
      signer: { privateKey: '[redacted]' },
    });
  });

  it('writes access lines to the same destination and level, top-level secrets still redacted', () => {
    const { lines, logger } = captured();
    const access = createAccessLogger(logger);
    access.debug({ path: '/health' }, 'below the level');
    access.info(
      { reqId: 'req-7', path: '/activity/track', token: 'T', payload: { note: 'P' } },
      'request completed',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: 'peruri-chain-adapter',
      reqId: 'req-7',
      path: '/activity/track',
      token: '[redacted]',
      payload: '[redacted]',
      msg: 'request completed',
    });
  });
});
