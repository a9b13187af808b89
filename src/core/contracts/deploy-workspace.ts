import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { JsonRpcProvider, Wallet } from 'ethers';
import { ErrorCodes, InputError, RefusedError } from '../errors.js';
import { runSteps, type Step, type StepEvent } from '../steps.js';
import { decryptAccountKey } from '../keys/keystore.js';
import {
  ARCHIVE_DIR,
  DEPLOYER_KEYSTORE,
  MINTER_KEYSTORE,
  adminKeystore,
  archiveStamp,
} from '../workspace/layout.js';
import { chooseKeystorePassword, type SuppliedSecret } from '../workspace/password.js';
import { formatProblem, readOptional, readWorkspace, type WorkspaceState } from '../workspace/read.js';
import { CONTRACT_NAMES, loadArtifact, type ContractName } from './artifacts.js';
import type { DeployProgressEvent } from './deploy.js';
import { parseDeploymentsRecord, type DeploymentsRecord } from './record.js';
import { writeJsonAtomically } from '../../io/files.js';

/** Where a workspace records its contract deployments. */
export const DEPLOYMENTS_FILE = 'deployments.json';
/** The copy the adapter reads, in the service machine's folder. */
export const SERVICE_DEPLOYMENTS_FILE = 'service/deployments.json';

/** Options of {@link deployWorkspaceContracts}. */
export interface DeployWorkspaceContractsOptions {
  /** The workspace folder. */
  dir: string;
  /** The node's JSON-RPC endpoint; credentials in it are used but never shown. */
  rpcUrl: string;
  /** The keystore password from the environment or a file; one-machine networks may omit it. */
  password: SuppliedSecret | undefined;
  /** Deploy even though the node serves another chain than network.yaml or deployments.json names. */
  allowChainChange?: boolean;
  /** Connect, read and report the plan; send nothing and write nothing. */
  dryRun?: boolean;
  /** Limit for each RPC request, in milliseconds (default: connectRpc's). */
  rpcTimeoutMs?: number;
  signal?: AbortSignal;
  /** Low-level progress of the deployment itself (transactions sent, mined, verified). */
  onProgress?: (event: DeployProgressEvent) => void;
}

/** What happened, or with `dryRun` what would happen, to one contract. */
export type WorkspaceContractStatus = 'deployed' | 'verified' | 'would deploy' | 'would verify';

/** One contract of {@link DeployWorkspaceContractsResult}. */
export interface WorkspaceContract {
  name: ContractName;
  status: WorkspaceContractStatus;
  /** For 'would deploy': where it lands if the deployer sends nothing else first. */
  address: string;
  /** Null for 'would deploy'. */
  txHash: string | null;
  blockNumber: number | null;
  bytecodeHash: string | null;
}

/** What {@link deployWorkspaceContracts} did or, with `dryRun`, would do. */
export interface DeployWorkspaceContractsResult {
  dir: string;
  chainId: number;
  /** The endpoint without user, password or query. */
  rpcUrl: string;
  deployer: string;
  dryRun: boolean;
  /** PointsToken, Badges, ActivityLog, in that order. */
  contracts: WorkspaceContract[];
  /** Transactions this run sent (always 0 for a dry run or a re-run over a complete record). */
  transactionsSent: number;
  /** Where the deployments are recorded, relative to the workspace; null for a dry run. */
  recordFile: string | null;
  warnings: string[];
}

interface DeployWorkspaceContext {
  options: DeployWorkspaceContractsOptions;
  dir: string;
  workspace?: WorkspaceState;
  previous?: DeploymentsRecord;
  admins?: string[];
  minter?: string;
  /** The decrypted deployer; held only in memory, never put in the result. */
  wallet?: Wallet;
  provider?: JsonRpcProvider;
  chainId?: number;
  warnings: string[];
  result?: DeployWorkspaceContractsResult;
}

/**
 * The steps of `contracts deploy`, for a caller that renders progress (the CLI runs them through
 * listr2). ethers is loaded by the steps, not by this module, so importing it stays cheap.
 * @param options - workspace, endpoint, password and mode
 * @returns the steps and the context they fill; `context.result` holds the result at the end
 */
export function deployWorkspaceContractsSteps(options: DeployWorkspaceContractsOptions): {
  steps: Step<DeployWorkspaceContext>[];
  context: DeployWorkspaceContext;
} {
  const context: DeployWorkspaceContext = { options, dir: resolve(options.dir), warnings: [] };
  const steps: Step<DeployWorkspaceContext>[] = [
    { title: 'Read the workspace', run: readAccounts },
    { title: 'Unlock the deployer keystore', run: unlockDeployer },
    { title: 'Connect to the node and check its chain id', run: connect },
    options.dryRun
      ? { title: 'Plan the deployment (dry run: nothing is sent)', run: plan }
      : { title: 'Deploy or verify the contracts', run: deploy },
  ];
  // The provider must not outlive a failed step.
  return {
    steps: steps.map((step) => ({
      ...step,
      run: async (ctx) => {
        try {
          await step.run(ctx);
        } catch (error) {
          ctx.provider?.destroy();
          throw error;
        }
      },
    })),
    context,
  };
}

/**
 * Deploys the workspace's contracts with its deployer account, or verifies the ones recorded in
 * `deployments.json`, and records every contract as soon as it is mined (atomically, 0644).
 * Refuses a node whose chain id differs from network.yaml (or from the record) unless
 * `allowChainChange`; a record from another chain is then copied to `.archive/` first.
 * @param options - workspace, endpoint, password and mode
 * @param onEvent - optional progress callback, one event per step
 * @returns the contracts with their addresses and statuses; never the key or the password
 * @throws InputError for a workspace without deployer, minter or admin accounts, a missing or
 *   wrong password (PC_SECRET_MISSING, PC_KEY_INVALID); RemoteError naming the endpoint when it
 *   cannot be reached; RefusedError (PC_CHAIN_MISMATCH, PC_CONTRACT_MISMATCH)
 * @example
 * const result = await deployWorkspaceContracts({
 *   dir: './peruri-local',
 *   rpcUrl: 'http://127.0.0.1:8548',
 *   password: undefined, // a one-machine network uses its stored development password
 * });
 * console.log(result.contracts.map((c) => `${c.name} ${c.address} ${c.status}`));
 */
export async function deployWorkspaceContracts(
  options: DeployWorkspaceContractsOptions,
  onEvent?: (event: StepEvent) => void,
): Promise<DeployWorkspaceContractsResult> {
  const { steps, context } = deployWorkspaceContractsSteps(options);
  await runSteps(steps, context, onEvent, options.signal);
  return context.result!;
}

async function readAccounts(ctx: DeployWorkspaceContext): Promise<void> {
  const workspace = await readWorkspace(ctx.dir);
  const { spec, accounts } = workspace;
  ctx.workspace = workspace;

  const accountPaths = [
    DEPLOYER_KEYSTORE,
    MINTER_KEYSTORE,
    ...spec.organisations.map((organisation) => adminKeystore(organisation.name)),
  ];
  const accountProblems = workspace.problems.filter((problem) => accountPaths.includes(problem.path));
  const admins = spec.organisations.map((organisation) => accounts.admins[organisation.name]);
  if (!accounts.deployer || !accounts.minter || admins.some((admin) => admin === undefined)) {
    throw new InputError(
      ErrorCodes.WORKSPACE_INVALID,
      `${ctx.dir} lacks the accounts the contracts are deployed with`,
      {
        details: accountProblems.map(formatProblem),
        hint: 'Run `peruri-chain render` to create the missing keystores, or restore them from a backup.',
      },
    );
  }
  // A readable keystore is worth fixing but does not stop a deployment.
  ctx.warnings.push(...accountProblems.map(formatProblem));
  ctx.admins = admins as string[];
  ctx.minter = accounts.minter;

  const recordText = await readOptional(join(ctx.dir, DEPLOYMENTS_FILE));
  if (recordText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(recordText);
    } catch (cause) {
      throw new InputError(ErrorCodes.WORKSPACE_INVALID, `${DEPLOYMENTS_FILE} is not valid JSON`, {
        hint: `Fix ${DEPLOYMENTS_FILE} by hand, or move it aside to deploy the contracts afresh.`,
        cause,
      });
    }
    ctx.previous = parseDeploymentsRecord(parsed, DEPLOYMENTS_FILE);
  }
}

async function unlockDeployer(ctx: DeployWorkspaceContext): Promise<void> {
  const { spec, accounts } = ctx.workspace!;
  const password = await chooseKeystorePassword(spec, ctx.options.password, ctx.dir);
  // A new development password could never open the existing keystores.
  if (password.generated) {
    throw new InputError(
      ErrorCodes.SECRET_MISSING,
      `No keystore password for ${DEPLOYER_KEYSTORE}: none was given and the workspace has no stored development password`,
      {
        hint: 'Set PERURI_CHAIN_KEYSTORE_PASSWORD or pass --keystore-password-file FILE with the password the workspace was created with.',
      },
    );
  }
  const json = await readFile(join(ctx.dir, DEPLOYER_KEYSTORE), 'utf8');
  const { address, privateKey } = await decryptAccountKey(json, password.value, DEPLOYER_KEYSTORE);
  if (address !== accounts.deployer) {
    throw new InputError(
      ErrorCodes.KEY_INVALID,
      `${DEPLOYER_KEYSTORE}: the key it holds is not the one for the address it names`,
      { hint: 'Restore the deployer keystore from a backup.' },
    );
  }
  const { Wallet } = await import('ethers');
  ctx.wallet = new Wallet(privateKey);
}

async function connect(ctx: DeployWorkspaceContext): Promise<void> {
  const { connectRpc, redactUrl, rpcFailure } = await import('../../io/rpc.js');
  const { options } = ctx;
  const url = options.rpcUrl;
  const shown = redactUrl(url);
  ctx.provider = await connectRpc(url, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.rpcTimeoutMs ? { timeoutMs: options.rpcTimeoutMs } : {}),
  });
  const network = await ctx.provider.getNetwork().catch((error: unknown) => {
    throw rpcFailure(url, 'read the chain id', error);
  });
  const chainId = Number(network.chainId);
  ctx.chainId = chainId;

  const expected = ctx.workspace!.spec.chainId;
  const recorded = ctx.previous?.chainId;
  if (chainId !== expected || (recorded !== undefined && chainId !== recorded)) {
    const said =
      chainId !== expected
        ? `network.yaml says chain ${expected}`
        : `${DEPLOYMENTS_FILE} records a deployment on chain ${recorded}`;
    if (!options.allowChainChange) {
      throw new RefusedError(
        ErrorCodes.CHAIN_MISMATCH,
        `The RPC endpoint ${shown} serves chain ${chainId}, but ${said}; nothing was sent`,
        {
          hint: 'Check --rpc. To deploy on this chain anyway (a test node, a re-created chain), pass --allow-chain-change.',
        },
      );
    }
    const verb = options.dryRun ? 'Would deploy' : 'Deploying';
    ctx.warnings.push(`${verb} on chain ${chainId} although ${said} (--allow-chain-change).`);
    if (options.dryRun && recorded !== undefined && chainId !== recorded) {
      ctx.warnings.push(
        `${DEPLOYMENTS_FILE} (chain ${recorded}) would be copied to ${ARCHIVE_DIR}/ and replaced.`,
      );
    }
  }
}

async function deploy(ctx: DeployWorkspaceContext): Promise<void> {
  const { deployContracts } = await import('./deploy.js');
  const { redactUrl } = await import('../../io/rpc.js');
  const { options, dir } = ctx;
  const provider = ctx.provider!;
  const signer = ctx.wallet!.connect(provider);
  const { token, badges } = ctx.workspace!.spec.contracts;
  try {
    if (ctx.previous && ctx.previous.chainId !== ctx.chainId) {
      const archived = await archiveRecord(dir);
      ctx.warnings.push(
        `The record of the deployment on chain ${ctx.previous.chainId} was copied to ${archived}.`,
      );
    }
    const deployed = await deployContracts({
      signer,
      params: { token: { ...token }, badges: { ...badges } },
      admins: ctx.admins!,
      minter: ctx.minter!,
      previous: ctx.previous,
      allowChainChange: options.allowChainChange ?? false,
      rpcUrl: options.rpcUrl,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      onRecord: (record) => writeRecord(dir, record),
    });
    ctx.result = {
      dir,
      chainId: deployed.chainId,
      rpcUrl: redactUrl(options.rpcUrl),
      deployer: deployed.deployer,
      dryRun: false,
      contracts: deployed.contracts.map(({ name, status, address, txHash, blockNumber, bytecodeHash }) => ({
        name,
        status,
        address,
        txHash,
        blockNumber,
        bytecodeHash,
      })),
      transactionsSent: deployed.transactionsSent,
      recordFile: DEPLOYMENTS_FILE,
      warnings: [...ctx.warnings, ...deployed.warnings],
    };
  } finally {
    provider.destroy();
  }
}

// The dry run checks what the real run would check first (chain, recorded code) with reads only,
// and predicts the addresses of new deployments from the deployer's pending nonce.
async function plan(ctx: DeployWorkspaceContext): Promise<void> {
  const { getCreateAddress, keccak256 } = await import('ethers');
  const { redactUrl, rpcFailure } = await import('../../io/rpc.js');
  const { options, dir } = ctx;
  const provider = ctx.provider!;
  const url = options.rpcUrl;
  const deployer = ctx.wallet!.address;
  const rpc = <T>(action: string, call: () => Promise<T>): Promise<T> =>
    call().catch((error: unknown) => {
      throw rpcFailure(url, action, error);
    });
  try {
    const { previous } = ctx;
    const recorded = previous && previous.chainId === ctx.chainId ? previous.contracts : {};
    const problems: string[] = [];
    const known = new Map<ContractName, WorkspaceContract>();
    await Promise.all(
      CONTRACT_NAMES.map(async (name) => {
        const entry = recorded[name];
        if (!entry) return;
        const at = `${name} at ${entry.address}`;
        const code = await rpc(`read the code of ${at}`, () => provider.getCode(entry.address));
        if (code === '0x') problems.push(`${at}: no contract there`);
        else if (keccak256(code) !== entry.bytecodeHash.toLowerCase())
          problems.push(
            `${at}: runtime code hashes to ${keccak256(code)}, the record says ${entry.bytecodeHash}`,
          );
        else if (code !== loadArtifact(name).deployedBytecode)
          problems.push(`${at}: deployed from another build of the contracts`);
        const { address, txHash, blockNumber, bytecodeHash } = entry;
        known.set(name, { name, status: 'would verify', address, txHash, blockNumber, bytecodeHash });
      }),
    );
    if (problems.length > 0) {
      throw new RefusedError(
        ErrorCodes.CONTRACT_MISMATCH,
        `The recorded contracts do not match chain ${ctx.chainId} at ${redactUrl(url)}`,
        {
          details: problems.sort(),
          hint: `Check the RPC URL and ${DEPLOYMENTS_FILE}; if the chain was re-created or the contracts changed, move ${DEPLOYMENTS_FILE} aside to deploy afresh.`,
        },
      );
    }
    const nonce = await rpc('read the deployer nonce', () =>
      provider.getTransactionCount(deployer, 'pending'),
    );
    let next = nonce;
    const contracts = CONTRACT_NAMES.map(
      (name): WorkspaceContract =>
        known.get(name) ?? {
          name,
          status: 'would deploy',
          address: getCreateAddress({ from: deployer, nonce: next++ }),
          txHash: null,
          blockNumber: null,
          bytecodeHash: null,
        },
    );
    ctx.result = {
      dir,
      chainId: ctx.chainId!,
      rpcUrl: redactUrl(url),
      deployer,
      dryRun: true,
      contracts,
      transactionsSent: 0,
      recordFile: null,
      warnings: ctx.warnings,
    };
  } finally {
    provider.destroy();
  }
}

// Written to a temporary name and renamed, so a crash never leaves half a record; called after
// each mined deployment, so an interrupted run resumes from it.
/**
 * Writes the record, and its copy in the service machine's folder: the adapter reads its contract
 * addresses from there (adapter.yaml `deploymentsFile`), and `deploy` ships that folder as it is.
 */
async function writeRecord(dir: string, record: DeploymentsRecord): Promise<void> {
  for (const target of [join(dir, DEPLOYMENTS_FILE), join(dir, SERVICE_DEPLOYMENTS_FILE)]) {
    await writeJsonAtomically(target, record);
  }
}

async function archiveRecord(dir: string): Promise<string> {
  const relative = join(ARCHIVE_DIR, archiveStamp(), DEPLOYMENTS_FILE);
  const target = join(dir, relative);
  await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
  await writeFile(target, await readFile(join(dir, DEPLOYMENTS_FILE)), { mode: 0o644 });
  return relative;
}
