import { access, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aTempDir } from '../../../test/support/temp-dir.js';
import { ErrorCodes, InputError } from '../errors.js';
import { initWorkspace } from '../workspace/init.js';
import { deployWorkspaceContracts } from './deploy-workspace.js';

// Reaching the endpoint would fail with PC_RPC_URL_INVALID, so any other error proves the
// refusal came before connecting.
const NOT_CONTACTED = 'not-an-rpc-url';

async function aLocalWorkspace(): Promise<string> {
  const dir = join(await aTempDir(), 'ws');
  await initWorkspace({ dir, spec: { example: 'local' }, password: undefined, force: false });
  return dir;
}

async function rejectionOf(promise: Promise<unknown>): Promise<InputError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

describe('deployWorkspaceContracts before connecting', () => {
  it('refuses a workspace without the deployer keystore, naming the file', async () => {
    // Given a workspace whose deployer keystore is gone
    const dir = await aLocalWorkspace();
    await rm(join(dir, 'accounts/deployer.json'));

    // When its contracts are deployed
    const error = await rejectionOf(
      deployWorkspaceContracts({ dir, rpcUrl: NOT_CONTACTED, password: undefined }),
    );

    // Then it is bad input listing the missing keystore
    expect(error.code).toBe(ErrorCodes.WORKSPACE_INVALID);
    expect(error.details).toEqual(['accounts/deployer.json: missing keystore']);
  });

  it('never generates a password: without one and without the stored one it is PC_SECRET_MISSING', async () => {
    // Given a one-machine workspace whose stored development password is gone
    const dir = await aLocalWorkspace();
    await rm(join(dir, 'secrets/dev-keystore-password'));

    // When its contracts are deployed without a password
    const error = await rejectionOf(
      deployWorkspaceContracts({ dir, rpcUrl: NOT_CONTACTED, password: undefined }),
    );

    // Then it asks for the password instead of inventing one, and stores nothing
    expect(error.code).toBe(ErrorCodes.SECRET_MISSING);
    expect(error.message).toContain('accounts/deployer.json');
    await expect(access(join(dir, 'secrets/dev-keystore-password'))).rejects.toThrow();
  });

  it('refuses a deployments.json that is not JSON', async () => {
    // Given a workspace with a damaged deployments record
    const dir = await aLocalWorkspace();
    await writeFile(join(dir, 'deployments.json'), '{"chainId": 1337,');

    // When its contracts are deployed
    const error = await rejectionOf(
      deployWorkspaceContracts({ dir, rpcUrl: NOT_CONTACTED, password: undefined }),
    );

    // Then it is bad input about that file
    expect(error.code).toBe(ErrorCodes.WORKSPACE_INVALID);
    expect(error.message).toBe('deployments.json is not valid JSON');
  });

  it('reaches the endpoint only after the workspace and keystore were checked', async () => {
    // Given a sound workspace
    const dir = await aLocalWorkspace();

    // When it is deployed to something that is not an RPC URL
    const error = await rejectionOf(
      deployWorkspaceContracts({ dir, rpcUrl: NOT_CONTACTED, password: undefined }),
    );

    // Then the checks passed and the URL is what failed
    expect(error.code).toBe(ErrorCodes.RPC_URL_INVALID);
  });
});
