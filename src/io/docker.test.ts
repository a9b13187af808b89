import { describe, expect, it } from 'vitest';
import { configHash, type ContainerSpec } from './docker.js';

function aSpec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  return {
    name: 'besu-validator-1',
    image: 'hyperledger/besu:25.4.1',
    cmd: ['--config-file=/config/config.toml'],
    networkMode: 'host',
    restartPolicy: 'unless-stopped',
    env: { A: '1', B: '2' },
    ...overrides,
  };
}

describe('configHash', () => {
  it('ignores the order of keys but not of the command', () => {
    // Given two specs that differ only in the order of their environment and labels
    const one = aSpec({ env: { A: '1', B: '2' }, labels: { x: '1', y: '2' } });
    const other = aSpec({ labels: { y: '2', x: '1' }, env: { B: '2', A: '1' } });
    // When they are hashed
    // Then the hashes are equal, and a reordered command or another value changes them
    expect(configHash(one, 'sha256:aa')).toBe(configHash(other, 'sha256:aa'));
    expect(configHash(aSpec({ cmd: ['b', 'a'] }), 'sha256:aa')).not.toBe(
      configHash(aSpec({ cmd: ['a', 'b'] }), 'sha256:aa'),
    );
    expect(configHash(aSpec({ env: { A: '1', B: '3' } }), 'sha256:aa')).not.toBe(
      configHash(one, 'sha256:aa'),
    );
  });

  it('changes when the image reference resolves to another image', () => {
    expect(configHash(aSpec(), 'sha256:aa')).not.toBe(configHash(aSpec(), 'sha256:bb'));
  });

  it('treats an absent optional field like an undefined one', () => {
    expect(configHash(aSpec({ user: undefined }), 'sha256:aa')).toBe(configHash(aSpec(), 'sha256:aa'));
  });
});
