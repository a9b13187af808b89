import {
  Contract,
  ContractFactory,
  ZeroAddress,
  getAddress,
  getCreateAddress,
  id,
  isAddress,
  keccak256,
  type Provider,
  type Signer,
  type TransactionResponse,
} from 'ethers';
import {
  BugError,
  ErrorCodes,
  InputError,
  InterruptedError,
  PeruriError,
  RefusedError,
  RemoteError,
} from '../errors.js';
import { rpcFailure, redactUrl } from '../../io/rpc.js';
import { CONTRACT_NAMES, loadArtifact, type ContractName } from './artifacts.js';
import type { ConstructorArg, DeploymentEntry, DeploymentsRecord } from './record.js';

/** Constructor parameters of the contracts, as the network spec gives them. */
export interface ContractParams {
  token: { name: string; symbol: string; decimals: number };
  badges: { uri: string };
}

/** Options of {@link deployContracts}. */
export interface DeployContractsOptions {
  /** The deployer, connected to a provider (see `connectRpc`). It needs no funds: gas price is 0. */
  signer: Signer;
  params: ContractParams;
  /** Accounts that get DEFAULT_ADMIN_ROLE on every contract (the organisations). */
  admins: string[];
  /** The adapter's signer: MINTER_ROLE on PointsToken and Badges, ANCHOR_ROLE on ActivityLog. */
  minter: string;
  /** The workspace's deployments.json content, if any. */
  previous: DeploymentsRecord | undefined;
  /** Deploy afresh when `previous` belongs to another chain instead of refusing. */
  allowChainChange?: boolean;
  /** The endpoint named in errors; taken from a JsonRpcProvider when not given. */
  rpcUrl?: string;
  /** How long to wait for each deployment to be mined (default 120,000 ms). */
  receiptTimeoutMs?: number;
  /** Stops before the next step; transactions already sent are still awaited and recorded. */
  signal?: AbortSignal;
  onProgress?: (event: DeployProgressEvent) => void;
  /** Persists the record; called after each contract is deployed so a crash can resume. */
  onRecord: (record: DeploymentsRecord) => Promise<void>;
}

/** Progress of {@link deployContracts}, for a task list or a log. */
export type DeployProgressEvent =
  | { type: 'connected'; chainId: number; deployer: string; url: string }
  | { type: 'chain-changed'; previousChainId: number; chainId: number }
  | { type: 'verified'; contract: ContractName; address: string }
  | { type: 'sent'; contract: ContractName; txHash: string; address: string; nonce: number }
  | { type: 'deployed'; contract: ContractName; address: string; txHash: string; blockNumber: number }
  | { type: 'roles'; contract: ContractName; checks: RoleCheck[] };

/** One contract after {@link deployContracts}: deployed now, or found deployed and verified. */
export interface DeployedContract {
  name: ContractName;
  address: string;
  txHash: string;
  blockNumber: number;
  bytecodeHash: string;
  status: 'deployed' | 'verified';
}

/** Whether an account holds a role on a contract, read with hasRole. */
export interface RoleCheck {
  contract: ContractName;
  role: 'DEFAULT_ADMIN_ROLE' | 'MINTER_ROLE' | 'ANCHOR_ROLE';
  account: string;
  granted: boolean;
}

/** What {@link deployContracts} did and found. */
export interface DeployContractsResult {
  chainId: number;
  deployer: string;
  /** PointsToken, Badges, ActivityLog, in that order. */
  contracts: DeployedContract[];
  roles: RoleCheck[];
  /** Deployed parameters that differ from the requested ones, roles not held: worth a look, not fatal. */
  warnings: string[];
  /** Transactions this run sent (0 on a re-run over a complete record). */
  transactionsSent: number;
  /** The final record, as last passed to `onRecord` (or `previous` when nothing changed). */
  record: DeploymentsRecord;
}

interface Wanted {
  admins: string[];
  minter: string;
  args: Record<ContractName, ConstructorArg[]>;
}

const ARG_NAMES: Record<ContractName, string[]> = {
  PointsToken: ['name', 'symbol', 'decimals', 'admins', 'minter'],
  Badges: ['uri', 'admins', 'minter'],
  ActivityLog: ['admins', 'anchorer'],
};

const MINTING_ROLE: Record<ContractName, RoleCheck['role']> = {
  PointsToken: 'MINTER_ROLE',
  Badges: 'MINTER_ROLE',
  ActivityLog: 'ANCHOR_ROLE',
};

const ROLE_IDS: Record<RoleCheck['role'], string> = {
  DEFAULT_ADMIN_ROLE: `0x${'00'.repeat(32)}`,
  MINTER_ROLE: id('MINTER_ROLE'),
  ANCHOR_ROLE: id('ANCHOR_ROLE'),
};

const DEFAULT_RECEIPT_TIMEOUT_MS = 120_000;

/**
 * Deploys PointsToken, Badges and ActivityLog, or verifies the ones a previous run recorded.
 * Re-runs are safe: a recorded contract is checked on chain (runtime code present, equal to its
 * recorded hash and to this build) and never redeployed; missing ones are deployed with locally
 * assigned nonces, all sent before any is awaited, each recorded through `onRecord` once mined.
 * Every transaction is legacy (type 0) with gas price 0, as on a zero-gas Besu network. The
 * constructors grant the roles, so no further transaction is needed; the roles are read back.
 * @param options - signer, parameters, accounts, previous record and callbacks
 * @returns every contract's address and status, the role checks and the final record
 * @throws InputError for unusable parameters; RefusedError when the record belongs to another chain
 *   (PC_CHAIN_MISMATCH) or a recorded contract does not match the chain (PC_CONTRACT_MISMATCH);
 *   RemoteError naming the endpoint when the node fails or a deployment reverts
 * @example
 * const provider = await connectRpc(url);
 * const result = await deployContracts({
 *   signer: new Wallet(deployerKey, provider),
 *   params: { token: { name: 'Peruri Points', symbol: 'PPT', decimals: 0 }, badges: { uri: 'https://…/{id}.json' } },
 *   admins: [adminA, adminB, adminC],
 *   minter: adapterAddress,
 *   previous: record,
 *   onRecord: (next) => writeFile('deployments.json', JSON.stringify(next, null, 2)),
 * });
 */
export async function deployContracts(options: DeployContractsOptions): Promise<DeployContractsResult> {
  const { signer, signal } = options;
  const provider = signer.provider;
  if (!provider) throw new BugError('deployContracts was given a signer without a provider');
  const url = options.rpcUrl ?? endpointOf(provider);
  const emit = (event: DeployProgressEvent): void => options.onProgress?.(event);
  const rpc = async <T>(action: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw rpcFailure(url, action, error);
    }
  };

  const wanted = checkParams(options);
  throwIfAborted(signal);
  const [network, deployer] = await Promise.all([
    rpc('read the chain id', () => provider.getNetwork()),
    rpc('read the deployer address', () => signer.getAddress()),
  ]);
  const chainId = Number(network.chainId);
  emit({ type: 'connected', chainId, deployer, url: redactUrl(url) });

  let record = startingRecord(options, chainId, emit);
  const done = new Map<ContractName, DeployedContract>();

  const checked = await Promise.all(
    CONTRACT_NAMES.map(async (name) => {
      const entry = record.contracts[name];
      if (!entry) return { problems: [], warnings: [] };
      const problems = await verifyEntry(name, entry, rpc, provider);
      if (problems.length > 0) return { problems, warnings: [] };
      done.set(name, { name, ...pick(entry), status: 'verified' });
      emit({ type: 'verified', contract: name, address: entry.address });
      return { problems, warnings: argumentDrift(name, entry.constructorArgs, wanted.args[name]) };
    }),
  );
  const problems = checked.flatMap((c) => c.problems);
  const warnings = checked.flatMap((c) => c.warnings);
  if (problems.length > 0) {
    throw new RefusedError(
      ErrorCodes.CONTRACT_MISMATCH,
      `The recorded contracts do not match chain ${chainId} at ${redactUrl(url)}`,
      {
        details: problems,
        hint: 'Check the RPC URL and deployments.json; if the chain was re-created or the contracts changed, move deployments.json aside to deploy afresh.',
      },
    );
  }

  const missing = CONTRACT_NAMES.filter((name) => !done.has(name));
  let transactionsSent = 0;
  if (missing.length > 0) {
    throwIfAborted(signal);
    const deployed = await deployMissing({
      missing,
      wanted,
      signer,
      provider,
      deployer,
      chainId: network.chainId,
      timeoutMs: options.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS,
      url,
      rpc,
      emit,
      onMined: async (name, entry) => {
        record = withEntry(record, name, entry);
        done.set(name, { name, ...pick(entry), status: 'deployed' });
        await options.onRecord(record);
      },
    });
    transactionsSent = deployed.sent;
    if (deployed.failure) throw deployed.failure;
  }

  const roles = (
    await Promise.all(
      CONTRACT_NAMES.map(async (name) => {
        const checks = await checkRoles(name, record.contracts[name]!.address, wanted, provider, rpc);
        emit({ type: 'roles', contract: name, checks });
        return checks;
      }),
    )
  ).flat();
  for (const check of roles.filter((c) => !c.granted)) {
    warnings.push(`${check.contract}: ${check.account} does not hold ${check.role}`);
  }

  return {
    chainId,
    deployer,
    contracts: CONTRACT_NAMES.map((name) => done.get(name)!),
    roles,
    warnings,
    transactionsSent,
    record,
  };
}

function checkParams(options: DeployContractsOptions): Wanted {
  const problems: string[] = [];
  const address = (value: unknown, at: string): string => {
    if (typeof value !== 'string' || !isAddress(value)) {
      problems.push(`${at}: expected a 20-byte hex address, found ${JSON.stringify(value)}`);
      return ZeroAddress;
    }
    const checksummed = getAddress(value);
    if (checksummed === ZeroAddress) problems.push(`${at}: the zero address cannot hold a role`);
    return checksummed;
  };
  const { token, badges } = options.params;
  if (typeof token.name !== 'string' || token.name.trim() === '') {
    problems.push('token.name: expected a non-empty string');
  }
  if (typeof token.symbol !== 'string' || token.symbol.trim() === '') {
    problems.push('token.symbol: expected a non-empty string');
  }
  if (!Number.isInteger(token.decimals) || token.decimals < 0 || token.decimals > 255) {
    problems.push(
      `token.decimals: expected an integer from 0 to 255, found ${JSON.stringify(token.decimals)}`,
    );
  }
  if (typeof badges.uri !== 'string') problems.push('badges.uri: expected a string');
  if (!Array.isArray(options.admins) || options.admins.length === 0) {
    problems.push('admins: expected at least one address');
  }
  const admins = (options.admins ?? []).map((a, i) => address(a, `admins[${i}]`));
  const duplicates = admins.filter((a, i) => a !== ZeroAddress && admins.indexOf(a) !== i);
  for (const duplicate of new Set(duplicates)) problems.push(`admins: ${duplicate} is listed twice`);
  const minter = address(options.minter, 'minter');
  if (problems.length > 0) {
    throw new InputError(ErrorCodes.CONTRACT_PARAMS_INVALID, 'The contract parameters cannot be deployed', {
      details: problems,
      hint: 'Fix the contracts section and the admin/minter accounts of the network spec.',
    });
  }
  return {
    admins,
    minter,
    args: {
      PointsToken: [token.name, token.symbol, token.decimals, admins, minter],
      Badges: [badges.uri, admins, minter],
      ActivityLog: [admins, minter],
    },
  };
}

function startingRecord(
  options: DeployContractsOptions,
  chainId: number,
  emit: (event: DeployProgressEvent) => void,
): DeploymentsRecord {
  const { previous } = options;
  if (!previous) return { chainId, contracts: {} };
  if (previous.chainId === chainId) return { chainId, contracts: { ...previous.contracts } };
  if (!options.allowChainChange) {
    throw new RefusedError(
      ErrorCodes.CHAIN_MISMATCH,
      `The deployments record is for chain ${previous.chainId}, but the RPC endpoint serves chain ${chainId}`,
      {
        hint: 'Point to the right RPC endpoint, or allow the chain change to deploy afresh on this chain.',
      },
    );
  }
  emit({ type: 'chain-changed', previousChainId: previous.chainId, chainId });
  return { chainId, contracts: {} };
}

async function verifyEntry(
  name: ContractName,
  entry: DeploymentEntry,
  rpc: <T>(action: string, call: () => Promise<T>) => Promise<T>,
  provider: Provider,
): Promise<string[]> {
  const at = `${name} at ${entry.address}`;
  const code = await rpc(`read the code of ${at}`, () => provider.getCode(entry.address));
  if (code === '0x') return [`${at}: no contract there`];
  const onChain = keccak256(code);
  if (onChain !== entry.bytecodeHash.toLowerCase()) {
    return [`${at}: runtime code hashes to ${onChain}, the record says ${entry.bytecodeHash}`];
  }
  // The build refuses immutables, so the runtime code of a deployment of this build is exactly
  // the artifact's deployedBytecode whatever the constructor arguments were.
  const built = loadArtifact(name).deployedBytecode;
  if (code !== built) {
    return [
      `${at}: deployed from another build of the contracts (code hash ${onChain}, this build ${keccak256(built)})`,
    ];
  }
  return [];
}

interface DeployMissingOptions {
  missing: ContractName[];
  wanted: Wanted;
  signer: Signer;
  provider: Provider;
  deployer: string;
  chainId: bigint;
  timeoutMs: number;
  url: string;
  rpc: <T>(action: string, call: () => Promise<T>) => Promise<T>;
  emit: (event: DeployProgressEvent) => void;
  onMined: (name: ContractName, entry: DeploymentEntry) => Promise<void>;
}

// Sends every missing deployment before awaiting any (nonces assigned here, so they need not wait
// for each other), then awaits them in nonce order, recording each as it is mined. A failure stops
// further sends but what was sent is still awaited and recorded, then the first failure is returned.
async function deployMissing(o: DeployMissingOptions): Promise<{ sent: number; failure?: PeruriError }> {
  const prepared = await Promise.all(
    o.missing.map(async (name) => {
      const artifact = loadArtifact(name);
      const factory = new ContractFactory(artifact.abi, artifact.bytecode, o.signer);
      const { data } = await factory.getDeployTransaction(...o.wanted.args[name]);
      const estimate = await o.rpc(`estimate the gas of the ${name} deployment`, () =>
        o.provider.estimateGas({ from: o.deployer, data, type: 0, gasPrice: 0n }),
      );
      // Gas is free on this network; the margin only guards against an estimate that is a little short.
      return { name, data, gasLimit: (estimate * 12n) / 10n };
    }),
  );
  const firstNonce = await o.rpc('read the deployer nonce', () =>
    o.provider.getTransactionCount(o.deployer, 'pending'),
  );

  const sent: { name: ContractName; response: TransactionResponse }[] = [];
  const failures: PeruriError[] = [];
  for (const [index, { name, data, gasLimit }] of prepared.entries()) {
    const nonce = firstNonce + index;
    try {
      const response = await o.signer.sendTransaction({
        type: 0,
        gasPrice: 0n,
        nonce,
        gasLimit,
        data,
        chainId: o.chainId,
      });
      sent.push({ name, response });
      const address = getCreateAddress({ from: o.deployer, nonce });
      o.emit({ type: 'sent', contract: name, txHash: response.hash, address, nonce });
    } catch (error) {
      failures.push(rpcFailure(o.url, `send the ${name} deployment`, error));
      break;
    }
  }

  for (const { name, response } of sent) {
    let entry: DeploymentEntry;
    let code: string;
    try {
      const receipt = await o.rpc(`wait for the ${name} deployment ${response.hash}`, () =>
        o.provider.waitForTransaction(response.hash, 1, o.timeoutMs),
      );
      if (!receipt) {
        throw new RemoteError(
          ErrorCodes.REMOTE_FAILED,
          `RPC ${redactUrl(o.url)}: the ${name} deployment ${response.hash} was not mined within ${o.timeoutMs} ms`,
          { host: redactUrl(o.url), hint: 'Check that the chain is producing blocks, then run again.' },
        );
      }
      if (receipt.status !== 1 || !receipt.contractAddress) {
        throw new RemoteError(
          ErrorCodes.REMOTE_FAILED,
          `RPC ${redactUrl(o.url)}: the ${name} deployment ${response.hash} reverted in block ${receipt.blockNumber}`,
          {
            host: redactUrl(o.url),
            hint: 'Check the block gas limit and that the chain runs the London EVM, then run again.',
          },
        );
      }
      const address = getAddress(receipt.contractAddress);
      code = await o.rpc(`read the code of ${name} at ${address}`, () => o.provider.getCode(address));
      entry = {
        address,
        txHash: response.hash,
        blockNumber: receipt.blockNumber,
        bytecodeHash: keccak256(code),
        constructorArgs: o.wanted.args[name],
      };
    } catch (error) {
      failures.push(error instanceof PeruriError ? error : rpcFailure(o.url, `deploy ${name}`, error));
      continue;
    }
    // Outside the try: when the caller cannot persist the record, its error is what to report.
    await o.onMined(name, entry);
    o.emit({
      type: 'deployed',
      contract: name,
      address: entry.address,
      txHash: entry.txHash,
      blockNumber: entry.blockNumber,
    });
    if (code !== loadArtifact(name).deployedBytecode) {
      failures.push(
        new RefusedError(
          ErrorCodes.CONTRACT_MISMATCH,
          `${name} at ${entry.address} was deployed but its runtime code differs from the build`,
          { hint: 'Check that the chain runs the London EVM without modifications.' },
        ),
      );
    }
  }
  return failures.length > 0 ? { sent: sent.length, failure: failures[0]! } : { sent: sent.length };
}

async function checkRoles(
  name: ContractName,
  address: string,
  wanted: Wanted,
  provider: Provider,
  rpc: <T>(action: string, call: () => Promise<T>) => Promise<T>,
): Promise<RoleCheck[]> {
  const contract = new Contract(address, loadArtifact(name).abi, provider);
  const asked: Omit<RoleCheck, 'granted'>[] = [
    ...wanted.admins.map((account) => ({ contract: name, role: 'DEFAULT_ADMIN_ROLE' as const, account })),
    { contract: name, role: MINTING_ROLE[name], account: wanted.minter },
  ];
  return Promise.all(
    asked.map(async (check) => {
      const granted = await rpc(`read ${check.role} of ${check.account} on ${name}`, () =>
        contract.getFunction('hasRole').staticCall(ROLE_IDS[check.role], check.account),
      );
      return { ...check, granted: granted === true };
    }),
  );
}

function argumentDrift(name: ContractName, recorded: ConstructorArg[], wanted: ConstructorArg[]): string[] {
  const normal = (value: ConstructorArg | undefined): string =>
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'string' && isAddress(v) ? v.toLowerCase() : v,
    );
  return ARG_NAMES[name].flatMap((field, i) =>
    normal(recorded[i]) === normal(wanted[i])
      ? []
      : [
          `${name}: ${field} was ${JSON.stringify(recorded[i])} at deployment, the parameters now give ${JSON.stringify(wanted[i])}; ` +
            (field === 'admins' || field === 'minter' || field === 'anchorer'
              ? 'roles change through grants (rotate-key), not by redeploying'
              : 'the deployed contract keeps its value'),
        ],
  );
}

function withEntry(record: DeploymentsRecord, name: ContractName, entry: DeploymentEntry): DeploymentsRecord {
  const contracts: DeploymentsRecord['contracts'] = {};
  // Fixed key order so deployments.json diffs stay readable.
  for (const n of CONTRACT_NAMES) {
    const e = n === name ? entry : record.contracts[n];
    if (e) contracts[n] = e;
  }
  return { chainId: record.chainId, contracts };
}

function pick(entry: DeploymentEntry): Omit<DeployedContract, 'name' | 'status'> {
  const { address, txHash, blockNumber, bytecodeHash } = entry;
  return { address, txHash, blockNumber, bytecodeHash };
}

function endpointOf(provider: Provider): string {
  const connection = (provider as { _getConnection?: () => { url: string } })._getConnection;
  return typeof connection === 'function' ? connection.call(provider).url : 'the RPC endpoint';
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError('Contract deployment interrupted');
}
