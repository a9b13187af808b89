import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Config } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { BaseCommand } from '../../src/cli/base-command.js';
import { ErrorCodes, RemoteError } from '../../src/core/errors.js';
import { runCli } from '../support/cli.js';
import { aSpecYaml } from '../support/spec-yaml.js';
import { aTempDir } from '../support/temp-dir.js';

async function aWorkspace(): Promise<string> {
  const dir = join(await aTempDir(), 'ws');
  const init = await runCli(['init', '--example', 'local', '--dir', dir, '--json']);
  expect(init.exitCode).toBe(0);
  return dir;
}

/** An in-process command for the exit codes no shipped command can produce on purpose. */
async function runThrowing(error: unknown): Promise<{ exit: number | undefined; message: string }> {
  class Throwing extends BaseCommand {
    async run(): Promise<void> {
      await this.parse(Throwing);
      throw error;
    }
  }
  const config = await Config.load(new URL('../../', import.meta.url).pathname);
  const previous = process.exitCode;
  try {
    await Throwing.run([], config);
    return { exit: 0, message: '' };
  } catch (caught) {
    return {
      exit: (caught as { oclif?: { exit?: number } }).oclif?.exit,
      message: (caught as Error).message,
    };
  } finally {
    process.exitCode = previous;
  }
}

describe('exit codes (one test per row of the README table)', () => {
  it('0: success', async () => {
    const dir = await aWorkspace();
    const result = await runCli(['validate', '--dir', dir]);
    expect(result.exitCode).toBe(0);
  });

  it('1: an internal error is reported as a bug with a hint', async () => {
    const { exit, message } = await runThrowing(new TypeError('cannot read properties of undefined'));
    expect(exit).toBe(1);
    expect(message).toContain('Internal error: cannot read properties of undefined');
  });

  it('2: usage errors (unknown flag, missing choice) come from the parser', async () => {
    expect((await runCli(['init', '--bogus'])).exitCode).toBe(2);
    expect((await runCli(['genesis', 'extradata'])).exitCode).toBe(2);
  });

  it('3: bad input (an invalid spec) lists every problem and writes nothing', async () => {
    const root = await aTempDir();
    await writeFile(
      join(root, 'bad.yaml'),
      aSpecYaml({ extra: { chainId: 'x', gas: { blockGasLimit: 10 } } }),
    );
    const result = await runCli(['init', '--spec', 'bad.yaml', '--dir', 'ws'], { cwd: root });
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('chainId (line');
    expect(result.stderr).toContain('gas.blockGasLimit (line');
    await expect(access(join(root, 'ws'))).rejects.toThrow();
  });

  it('4: a failed remote step names the host and says what to do', async () => {
    const { exit, message } = await runThrowing(
      new RemoteError(ErrorCodes.REMOTE_FAILED, 'Cannot reach http://10.0.0.9:8545', { host: '10.0.0.9' }),
    );
    expect(exit).toBe(4);
    expect(message).toContain('10.0.0.9');
  });

  it('5: refused, because it would overwrite an existing workspace', async () => {
    const dir = await aWorkspace();
    const result = await runCli(['init', '--example', 'local', '--dir', dir]);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain('--force');
  });

  it('130: interrupted (Ctrl-C) between steps, and nothing is written', async () => {
    // Given init of the pilot
    const root = await aTempDir();
    const child = runCli(['init', '--example', 'pilot', '--dir', join(root, 'ws')], {
      env: { PERURI_CHAIN_KEYSTORE_PASSWORD: 'a long pilot password 1234' },
    });
    // When SIGINT arrives during the first step (the later ones may take only milliseconds, since
    // the keystores' key derives from the start, so only here is there surely a step boundary to come)
    let sent = false;
    child.stderr!.on('data', (chunk: Buffer) => {
      if (!sent && chunk.toString().includes('Read and validate the network spec')) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const result = await child;
    // Then the exit code is 130 and there is no workspace, nor a staging folder
    expect(result.exitCode).toBe(130);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(root)).toEqual([]);
  });
});

describe('--json', () => {
  it('prints exactly one JSON document on stdout and keeps stderr free of progress', async () => {
    const root = await aTempDir();
    const result = await runCli(['init', '--example', 'local', '--dir', join(root, 'ws'), '--json']);
    const document = JSON.parse(result.stdout) as {
      status: number;
      result: { files: string[] };
      warnings: string[];
    };
    expect(document.status).toBe(0);
    expect(document.result.files).toContain('genesis.json');
    expect(document.warnings.join('\n')).toContain('secrets/dev-keystore-password');
    expect(result.stderr).toBe('');
    // And no secret is in it
    const password = (await readFile(join(root, 'ws', 'secrets/dev-keystore-password'), 'utf8')).trim();
    const nodeKey = (await readFile(join(root, 'ws', 'nodes/peruri/key'), 'utf8')).slice(2);
    expect(result.stdout).not.toContain(password);
    expect(result.stdout).not.toContain(nodeKey);
  });

  it('puts errors in the same envelope with code, hint and details', async () => {
    const result = await runCli(['validate', '--dir', await aTempDir(), '--json']);
    expect(result.exitCode).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 3,
      error: { code: 'PC_WORKSPACE_INVALID', hint: expect.stringContaining('init') },
    });
  });
});

describe('genesis extradata', () => {
  it("encodes Besu's RLPSubCommandTest vector byte for byte, and decodes it back", async () => {
    const validators =
      '0xbe068f726a13c8d46c44be6ce9d275600e1735a4,0x5ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193';
    const encoded = await runCli(['genesis', 'extradata', '--validators', validators]);
    expect(encoded.stdout).toBe(
      '0xf853a00000000000000000000000000000000000000000000000000000000000000000ea94be068f726a13c8d46c44be6ce9d275600e1735a4945ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193808400000000c0',
    );
    const decoded = await runCli(['genesis', 'extradata', '--decode', encoded.stdout, '--json']);
    expect(JSON.parse(decoded.stdout).result).toEqual({
      vanity: `0x${'00'.repeat(32)}`,
      validators: validators.split(','),
      round: 0,
      seals: [],
    });
  });

  it('rejects malformed input with exit 3 and says which value', async () => {
    const result = await runCli([
      'genesis',
      'extradata',
      '--validators',
      '0x12,0xbe068f726a13c8d46c44be6ce9d275600e1735a4',
    ]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('not an address: "0x12"');
    const decode = await runCli(['genesis', 'extradata', '--decode', '0xf8']);
    expect(decode.exitCode).toBe(3);
    expect(decode.stderr).toContain('Invalid IBFT 2.0 extraData');
  });
});

describe('messages people read', () => {
  it('an invalid spec', async () => {
    const root = await aTempDir();
    await writeFile(
      join(root, 'network.yaml'),
      aSpecYaml({ extra: { chainId: 1, consensus: { blockPeriodSeconds: 0 }, colour: 'blue' } }).replace(
        'host: 127.0.0.1',
        'host: localhost',
      ),
    );
    const result = await runCli(['init', '--spec', 'network.yaml', '--dir', 'ws'], { cwd: root });
    await expect(result.stderr).toMatchFileSnapshot('__snapshots__/messages/invalid-spec.txt');
  });

  it.each([
    ['init'],
    ['validate'],
    ['render'],
    ['genesis', 'extradata'],
    ['contracts', 'deploy'],
    ['snapshot'],
    ['restore'],
    ['adapter', 'start'],
    ['adapter', 'reindex'],
    ['up'],
    ['down'],
    ['deploy'],
    ['status'],
    ['rotate-key'],
  ])('--help of %s', async (...command) => {
    const result = await runCli([...command, '--help']);
    expect(result.exitCode).toBe(0);
    await expect(result.stdout).toMatchFileSnapshot(`__snapshots__/help/${command.join('-')}.txt`);
  });
});
