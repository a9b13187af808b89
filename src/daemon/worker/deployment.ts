import { readFile } from 'node:fs/promises';
import { parseDeploymentsRecord } from '../../core/contracts/record.js';
import type { MirrorDeployment } from './mirror-worker.js';

/**
 * Reads the contract addresses the worker needs from the workspace's deployments.json.
 * @param file - the deployments file named in the adapter configuration
 * @param chainId - the configured chain; a record of another chain is an error
 * @returns the deployment, or undefined while the file is missing or a contract is not deployed
 * @throws InputError for a malformed record; Error for a record of another chain
 */
export async function readMirrorDeployment(
  file: string,
  chainId: number,
): Promise<MirrorDeployment | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const record = parseDeploymentsRecord(JSON.parse(text), file);
  if (record.chainId !== chainId) {
    throw new Error(
      `${file} records chain ${record.chainId}, the adapter is configured for chain ${chainId}`,
    );
  }
  const { PointsToken, Badges, ActivityLog } = record.contracts;
  if (!PointsToken || !Badges || !ActivityLog) return undefined;
  return {
    pointsToken: PointsToken.address.toLowerCase(),
    badges: Badges.address.toLowerCase(),
    activityLog: ActivityLog.address.toLowerCase(),
    startBlock: Math.min(PointsToken.blockNumber, Badges.blockNumber, ActivityLog.blockNumber),
  };
}
