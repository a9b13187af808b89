import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DEPLOYMENTS_FILE } from '../contracts/deploy-workspace.js';
import { parseDeploymentsRecord, type DeploymentsRecord } from '../contracts/record.js';
import { ErrorCodes, RemoteError } from '../errors.js';
import { callRpc } from './readiness.js';
import { writeFileAtomically } from '../../io/files.js';

/**
 * Reads the workspace's deployments.json.
 * @param dir - the workspace
 * @returns the record, or undefined when nothing was deployed yet (or it is not JSON at all)
 */
export async function readDeployments(dir: string): Promise<DeploymentsRecord | undefined> {
  const text = await readFile(join(dir, DEPLOYMENTS_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the deployment step reports it with its hint.
    return undefined;
  }
  return parseDeploymentsRecord(parsed, DEPLOYMENTS_FILE);
}

/**
 * The recorded contracts of this chain that have no code on it: what a chain that lost its state
 * (deleted, or killed before it saved the deployment) looks like.
 * @param record - deployments.json
 * @param chainId - the workspace's chain id; records of other chains are not this chain's business
 * @param rpcUrl - the local chain
 * @returns one line per missing contract, empty when all are there
 * @throws RemoteError when the chain does not answer
 */
export async function findLostContracts(
  record: DeploymentsRecord | undefined,
  chainId: number,
  rpcUrl: string,
): Promise<string[]> {
  if (!record || record.chainId !== chainId) return [];
  const lost: string[] = [];
  for (const [name, entry] of Object.entries(record.contracts)) {
    if (!entry) continue;
    const code = await callRpc(rpcUrl, 'eth_getCode', [entry.address, 'latest']);
    if (typeof code !== 'string') {
      throw new RemoteError(
        ErrorCodes.REMOTE_FAILED,
        `The local chain at ${rpcUrl} did not answer eth_getCode`,
        {
          host: new URL(rpcUrl).host,
          hint: 'See the chain log under .local/ and run up again.',
        },
      );
    }
    if (code === '0x')
      lost.push(`${name} at ${entry.address} (deployed in block ${entry.blockNumber}): no code`);
  }
  return lost;
}

/**
 * Puts the workspace's deployments.json where the adapter configuration says the adapter reads
 * it (`deploymentsFile`), as `deploy` puts it on the service machine; atomic, 0644.
 * @param dir - the workspace
 * @param deploymentsFile - the adapter's path, absolute
 * @returns true when a copy was written (false when it is the workspace's own file)
 */
export async function publishDeployments(dir: string, deploymentsFile: string): Promise<boolean> {
  const source = resolve(dir, DEPLOYMENTS_FILE);
  if (resolve(deploymentsFile) === source) return false;
  const content = await readFile(source);
  await mkdir(dirname(deploymentsFile), { recursive: true });
  await writeFileAtomically(deploymentsFile, content, 0o644);
  return true;
}
