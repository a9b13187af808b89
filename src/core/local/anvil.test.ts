import { describe, expect, it } from 'vitest';
import { anvilArgs, anvilBinary } from './anvil.js';

describe('anvil as the local chain', () => {
  it('runs anvil as the workspace chain: its id and block time, London, free gas, its gas limit, saved state', () => {
    // When the arguments are built
    const args = anvilArgs({
      host: '127.0.0.1',
      port: 8548,
      chainId: 1337,
      gasLimit: 100_000_000n,
      blockTimeSeconds: 2,
      stateFile: '/ws/.local/chain-state.json',
      stateIntervalSeconds: 5,
    });

    // Then each is there as anvil expects it
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    expect(value('--chain-id')).toBe('1337');
    expect(value('--block-time')).toBe('2');
    expect(value('--hardfork')).toBe('london');
    expect(value('--gas-price')).toBe('0');
    expect(value('--base-fee')).toBe('0');
    expect(value('--gas-limit')).toBe('100000000');
    expect(value('--state')).toBe('/ws/.local/chain-state.json');
    expect(value('--state-interval')).toBe('5');
    expect(value('--accounts')).toBe('0');
    expect(`${value('--host')}:${value('--port')}`).toBe('127.0.0.1:8548');
    expect(anvilBinary()).toMatch(/anvil$/);
  });
});
