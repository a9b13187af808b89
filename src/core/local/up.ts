import { open, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ContractName } from '../contracts/artifacts.js';
import { ErrorCodes, InputError, RefusedError, RemoteError } from '../errors.js';
import { isLoopback } from '../spec/rules.js';
import type { NetworkSpec } from '../spec/types.js';
import { runSteps, type Step } from '../steps.js';
import { SPEC_FILE } from '../workspace/layout.js';
import { chooseKeystorePassword, type SuppliedSecret } from '../workspace/password.js';
import {
  planAdapterLaunch,
  type AdapterLaunch,
  type LoadAdapterConfig,
  type LocalAdapterConfig,
} from './adapter-process.js';
import { planLocalChain, type LocalChainPlan } from './chain.js';
import { DEV_TOKEN_TTL_SECONDS, ensureJwtSecret, mintDevToken } from './jwt.js';
import { probeChain, probeHttp, waitUntilReady, type WaitOutcome } from './readiness.js';
import { findLostContracts, publishDeployments, readDeployments } from './recorded-contracts.js';
import { archiveLocalChain } from './reset.js';
import {
  ensureLocalDir,
  LOCAL_DIR,
  readStackState,
  writeStackState,
  type LocalEngine,
  type ProcessRecord,
  type StackRole,
  type StackState,
} from './state.js';
import { stopRecordedStack } from './down.js';
import { withStackLock } from './lock.js';
import { isRecordedProcessRunning, stopRecordedProcess } from './supervise.js';

/** Where the adapter configuration is in a workspace. */
export const ADAPTER_CONFIG_FILE = 'service/adapter.yaml';

/** Options of {@link upLocalStack}. */
export interface UpLocalStackOptions {
  /** The workspace folder. */
  dir: string;
  /** `anvil` (default): the bundled EVM node stands in for the network; `besu`: the real nodes. */
  engine?: LocalEngine;
  /** The keystore password from the environment or a file; one-machine networks may omit it. */
  password: SuppliedSecret | undefined;
  /** Reads service/adapter.yaml: the daemon's loader, handed over by the edge. */
  loadAdapterConfig: LoadAdapterConfig;
  /** Archive the local chain's state, deployments and adapter database first, and start afresh. */
  resetChain?: boolean;
  /** Stops waits and deployment; what this run started is then stopped again. */
  signal?: AbortSignal;
  /** How long the adapter may take to answer /ready with 200 (default 60,000 ms). */
  adapterReadyTimeoutMs?: number;
  /** Where `besu` is looked for (default: PATH). */
  pathVariable?: string;
}

/** Whether a process of the stack was started by this run or already ran and was kept. */
export type UpProcessStatus = 'started' | 'kept';

/** One process of the running stack. */
export interface UpProcess {
  name: string;
  role: StackRole;
  pid: number;
  status: UpProcessStatus;
  /** Workspace-relative. */
  logFile: string;
}

/** The running stack, as `up` leaves it. */
export interface UpLocalStackResult {
  dir: string;
  network: string;
  chainId: number;
  engine: LocalEngine;
  adapterUrl: string;
  rpcUrl: string;
  /**
   * An HS256 token the local adapter accepts (subject peruri-chain-up, 12 hours): a credential of
   * this development stack only. Null when the adapter is configured for public-key tokens.
   */
  token: string | null;
  tokenExpiresAt: string | null;
  contracts: Record<ContractName, string>;
  /** Contract transactions this run sent (0 when the recorded contracts were verified). */
  transactionsSent: number;
  processes: UpProcess[];
  /** With --reset-chain: where the old chain's files went (workspace-relative), else null. */
  archivedTo: string | null;
  /** Folder of the logs and state, workspace-relative. */
  localDir: string;
  warnings: string[];
}

/** The shared context of the steps of `up`. */
export interface UpContext {
  options: UpLocalStackOptions;
  dir: string;
  engine: LocalEngine;
  spec?: NetworkSpec;
  configFile?: string;
  config?: LocalAdapterConfig;
  /** The keystore password; only in memory, handed to the adapter through its environment. */
  keystorePassword?: string;
  jwtSecret?: string;
  chain?: LocalChainPlan;
  adapter?: AdapterLaunch;
  state?: StackState;
  /** What this run started: stopped again if the run fails or is interrupted. */
  started: ProcessRecord[];
  statuses: Map<string, UpProcessStatus>;
  /** Where each log (workspace-relative) stood before this run's start: failures show only new lines. */
  logOffsets: Map<string, number>;
  contracts?: Record<ContractName, string>;
  transactionsSent: number;
  archivedTo: string | null;
  token: { value: string; expiresAt: string } | null;
  warnings: string[];
}

/** Runs the steps of `up`; the CLI passes one that renders them with listr2. */
export type UpStepRunner = (steps: readonly Step<UpContext>[], context: UpContext) => Promise<void>;

/**
 * Runs the whole stack on this machine: the local chain (anvil on the adapter's RPC address, or
 * the workspace's Besu nodes), the contracts (deployed or verified), the adapter daemon with
 * SQLite, each started detached and recorded in `.local/stack.json`, and mints a token for trying
 * it. What already runs and answers is kept. If the run fails or is interrupted, what it started
 * is stopped again; what it kept keeps running.
 * @param options - workspace, engine, password, reset, abort signal
 * @param run - runs the steps (default: plainly, without progress)
 * @returns URLs, token, contract addresses and which processes were started or kept
 * @throws RefusedError (PC_WORKSPACE_INVALID without a workspace, PC_NOT_ONE_MACHINE,
 *   PC_ENGINE_MISSING, PC_PORT_IN_USE, PC_LOCAL_CHAIN_LOST, PC_STACK_RUNNING, PC_LOCAL_BUSY), RemoteError
 *   (PC_LOCAL_START_FAILED with the log's tail), InterruptedError
 * @example
 * // loadAdapterConfig: the daemon's loader (src/daemon/config/load.ts), handed over by the edge
 * const stack = await upLocalStack({ dir: './workspace', password: undefined, loadAdapterConfig });
 * console.log(stack.adapterUrl, stack.contracts.PointsToken);
 */
export async function upLocalStack(
  options: UpLocalStackOptions,
  run: UpStepRunner = (steps, context) => runSteps(steps, context, undefined, options.signal),
): Promise<UpLocalStackResult> {
  const context: UpContext = {
    options,
    dir: resolve(options.dir),
    engine: options.engine ?? 'anvil',
    started: [],
    statuses: new Map(),
    logOffsets: new Map(),
    transactionsSent: 0,
    archivedTo: null,
    token: null,
    warnings: [],
  };
  // Without a workspace there is nothing to lock (and no .local to create): the first step refuses.
  const lock = (await exists(join(context.dir, SPEC_FILE)))
    ? <T>(work: () => Promise<T>) => withStackLock(context.dir, 'up', work)
    : <T>(work: () => Promise<T>) => work();
  return lock(async () => {
    try {
      await run(upSteps(options), context);
    } catch (error) {
      await stopStarted(context);
      throw error;
    }
    return result(context);
  });
}

function upSteps(options: UpLocalStackOptions): Step<UpContext>[] {
  return [
    { title: 'Read the workspace and the adapter configuration', run: readStack },
    {
      title: 'Stop the stack and archive the local chain (--reset-chain)',
      skip: () => (options.resetChain ? false : 'no --reset-chain'),
      run: resetChain,
    },
    { title: 'Start the local chain, or keep the running one', run: startChain },
    { title: 'Deploy the contracts, or verify the recorded ones', run: deployContracts },
    { title: 'Mint a token for trying the adapter', run: mintToken },
    { title: 'Start the adapter, or keep the running one', run: startAdapter },
  ];
}

async function readStack(ctx: UpContext): Promise<void> {
  const { dir } = ctx;
  if (!(await exists(join(dir, SPEC_FILE)))) {
    throw new RefusedError(
      ErrorCodes.WORKSPACE_INVALID,
      `${dir} is not a workspace: it has no ${SPEC_FILE}`,
      {
        hint: `Create one with \`peruri-chain init --example local --dir ${ctx.options.dir}\` first (npm start does both).`,
      },
    );
  }
  const { readWorkspace } = await import('../workspace/read.js');
  const { spec } = await readWorkspace(dir);
  ctx.spec = spec;
  const remote = [
    ...spec.nodes.filter((node) => !isLoopback(node.host)).map((node) => `node ${node.name}: ${node.host}`),
    ...(isLoopback(spec.service.host) ? [] : [`service: ${spec.service.host}`]),
  ];
  if (remote.length > 0) {
    throw new RefusedError(
      ErrorCodes.NOT_ONE_MACHINE,
      `up runs only networks that live on this machine, and ${spec.name} has machines elsewhere`,
      {
        details: remote,
        hint: 'Use `peruri-chain deploy` for a network on several machines, or create a one-machine workspace with `peruri-chain init --example local`.',
      },
    );
  }
  const { config, path } = await ctx.options.loadAdapterConfig(join(dir, ADAPTER_CONFIG_FILE));
  const rpcHost = new URL(config.rpcUrl).hostname.replace(/^\[|\]$/g, '');
  if (!isLoopback(rpcHost) && rpcHost !== 'localhost') {
    throw new RefusedError(
      ErrorCodes.NOT_ONE_MACHINE,
      `${ADAPTER_CONFIG_FILE} points the adapter at ${config.rpcUrl}, not at this machine`,
      {
        hint: 'Run `peruri-chain render` so that the adapter configuration follows network.yaml again.',
      },
    );
  }
  if (config.chainId !== spec.chainId) {
    throw new InputError(
      ErrorCodes.CONFIG_INVALID,
      `${ADAPTER_CONFIG_FILE} is for chain ${config.chainId}, network.yaml for chain ${spec.chainId}`,
      { hint: 'Run `peruri-chain render` so that the adapter configuration follows network.yaml again.' },
    );
  }
  ctx.config = config;
  ctx.configFile = path;
  const password = await chooseKeystorePassword(spec, ctx.options.password, dir);
  if (password.generated) {
    throw new InputError(
      ErrorCodes.SECRET_MISSING,
      'No keystore password: none was given and the workspace has no stored development password',
      {
        hint: 'Set PERURI_CHAIN_KEYSTORE_PASSWORD or pass --keystore-password-file FILE with the password the workspace was created with.',
      },
    );
  }
  ctx.keystorePassword = password.value;
  ctx.chain = await planLocalChain({
    dir,
    spec,
    engine: ctx.engine,
    rpcUrl: config.rpcUrl,
    pathVariable: ctx.options.pathVariable,
  });
  ctx.state = (await readStackState(dir)) ?? { version: 1, engine: ctx.engine, processes: [] };
  const otherEngine = ctx.state.engine !== ctx.engine;
  if (otherEngine && !ctx.options.resetChain && (await runningRecords(ctx.state, 'chain')).length > 0) {
    throw new RefusedError(
      ErrorCodes.STACK_RUNNING,
      `The local chain runs with ${ctx.state.engine}, and --engine ${ctx.engine} was asked for`,
      { hint: `Stop it first with \`peruri-chain down --dir ${ctx.options.dir}\`.` },
    );
  }
}

async function resetChain(ctx: UpContext): Promise<void> {
  const stopped = await stopRecordedStack(ctx.dir);
  if (stopped.processes.length > 0) {
    ctx.warnings.push(`Stopped the running stack first: ${stopped.processes.map((p) => p.name).join(', ')}.`);
  }
  ctx.state = { version: 1, engine: ctx.engine, processes: [] };
  const archived = await archiveLocalChain({
    dir: ctx.dir,
    spec: ctx.spec!,
    databaseUrl: ctx.config!.database.url,
    deploymentsFile: ctx.config!.deploymentsFile,
  });
  ctx.archivedTo = archived.archivedTo;
  ctx.warnings.push(...archived.warnings);
  if (archived.archivedTo) {
    ctx.warnings.push(
      `The old local chain (${archived.moved.join(', ')}) was moved to ${archived.archivedTo}; the contracts are deployed afresh.`,
    );
  }
}

async function startChain(ctx: UpContext): Promise<void> {
  const plan = ctx.chain!;
  const spec = ctx.spec!;
  const state = ctx.state!;
  const recorded = state.processes.filter((record) => record.role === 'chain');
  if (recorded.length > 0) {
    const running = await runningRecords(state, 'chain');
    const status = await probeChain(plan.rpcUrl);
    const complete =
      state.engine === ctx.engine &&
      running.length === plan.launches.length &&
      recorded.length === plan.launches.length;
    if (complete && status?.chainId === spec.chainId && status.blockNumber >= plan.minBlockNumber) {
      for (const record of recorded) ctx.statuses.set(record.name, 'kept');
      return;
    }
    // Part of the chain runs, or it runs and does not answer: start it again as a whole.
    for (const record of running.reverse()) {
      await stopRecordedProcess(record, plan.stopGraceMs);
      ctx.warnings.push(
        `${record.name} (pid ${record.pid}) ran but the chain did not answer at ${plan.rpcUrl}; it was restarted.`,
      );
    }
    await forget(ctx, recorded);
  }
  state.engine = ctx.engine;
  const foreign = await probeChain(plan.rpcUrl);
  if (foreign !== undefined) {
    throw new RefusedError(
      ErrorCodes.PORT_IN_USE,
      `Another node already answers at ${plan.rpcUrl} (chain ${foreign.chainId})`,
      {
        hint: "Stop it (it was not started by up for this workspace), or change the transaction node's rpcPort in network.yaml and run `peruri-chain render`.",
      },
    );
  }
  const exits: Promise<number | string>[] = [];
  for (const launch of plan.launches) {
    const { exited } = await startProcess(
      ctx,
      'chain',
      launch.name,
      launch.file,
      launch.args,
      launch.logFile,
      process.env,
    );
    exits.push(exited.then((code) => `${launch.name}: ${code}`));
  }
  const outcome = await waitUntilReady(
    async () => {
      const status = await probeChain(plan.rpcUrl);
      if (status === undefined || status.blockNumber < plan.minBlockNumber) return undefined;
      return status;
    },
    { timeoutMs: plan.readyTimeoutMs, signal: ctx.options.signal, exited: Promise.race(exits) },
  );
  if (outcome.kind === 'ready' && outcome.value.chainId !== spec.chainId) {
    throw new RemoteError(
      ErrorCodes.LOCAL_START_FAILED,
      `The local chain serves chain ${outcome.value.chainId}, network.yaml says ${spec.chainId}`,
      { host: 'localhost', hint: 'Check the chain log under .local/.' },
    );
  }
  await failUnlessReady(
    ctx,
    outcome,
    'The local chain',
    plan.launches.map((launch) => launch.logFile),
    plan.readyTimeoutMs,
  );
}

async function deployContracts(ctx: UpContext): Promise<void> {
  const { dir, options } = ctx;
  const config = ctx.config!;
  const lost = await findLostContracts(await readDeployments(dir), ctx.spec!.chainId, config.rpcUrl);
  if (lost.length > 0) {
    throw new RefusedError(
      ErrorCodes.LOCAL_CHAIN_LOST,
      'The local chain does not hold the contracts recorded in deployments.json: its saved state was lost or predates the deployment (the chain was killed before it saved)',
      {
        details: lost,
        hint: `Start a new local chain with \`peruri-chain up --dir ${options.dir} --reset-chain\`: the old chain state, deployments.json and the adapter database are moved to .archive/ and the contracts deployed afresh.`,
      },
    );
  }
  const { deployWorkspaceContracts } = await import('../contracts/deploy-workspace.js');
  const deployed = await deployWorkspaceContracts({
    dir,
    rpcUrl: config.rpcUrl,
    password: options.password,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  ctx.warnings.push(...deployed.warnings);
  ctx.transactionsSent = deployed.transactionsSent;
  ctx.contracts = Object.fromEntries(
    deployed.contracts.map((contract) => [contract.name, contract.address]),
  ) as Record<ContractName, string>;
  await publishDeployments(dir, config.deploymentsFile);
}

async function startAdapter(ctx: UpContext): Promise<void> {
  const config = ctx.config!;
  const state = ctx.state!;
  const launch = planAdapterLaunch({
    configFile: ctx.configFile!,
    config,
    jwtSecret: ctx.jwtSecret!,
    keystorePassword: ctx.keystorePassword!,
  });
  ctx.adapter = launch;
  // /ready needs a token; without one (public-key tokens) liveness is all that can be checked.
  const readyUrl = `${launch.url}/${ctx.token ? 'ready' : 'health'}`;
  const authorization: Record<string, string> = ctx.token
    ? { authorization: `Bearer ${ctx.token.value}` }
    : {};
  const answers = async () => ((await probeHttp(readyUrl, authorization)) === 200 ? true : undefined);
  const recorded = state.processes.filter((record) => record.role === 'adapter');
  const [running] = await runningRecords(state, 'adapter');
  if (running) {
    // A kept chain answers at once; a restarted one may take the adapter a moment to notice.
    const answer = await waitUntilReady(answers, {
      timeoutMs: 10_000,
      signal: ctx.options.signal,
    });
    if (answer.kind === 'ready') {
      ctx.statuses.set(running.name, 'kept');
      return;
    }
    await stopRecordedProcess(running, launch.stopGraceMs);
    ctx.warnings.push(
      `The adapter (pid ${running.pid}) ran but was not ready at ${readyUrl}; it was restarted.`,
    );
  }
  await forget(ctx, recorded);
  const foreign = await probeHttp(`${launch.url}/health`);
  if (foreign !== undefined) {
    throw new RefusedError(
      ErrorCodes.PORT_IN_USE,
      `Something already answers at ${launch.url} (HTTP ${foreign})`,
      {
        hint: 'Stop it (it was not started by up for this workspace), or change service.adapterPort in network.yaml and run `peruri-chain render`.',
      },
    );
  }
  const { exited } = await startProcess(
    ctx,
    'adapter',
    launch.name,
    launch.file,
    launch.args,
    launch.logFile,
    launch.env,
  );
  const timeoutMs = ctx.options.adapterReadyTimeoutMs ?? 60_000;
  const outcome = await waitUntilReady(answers, {
    timeoutMs,
    intervalMs: 200,
    signal: ctx.options.signal,
    exited,
  });
  await failUnlessReady(ctx, outcome, 'The adapter', [launch.logFile], timeoutMs);
}

async function mintToken(ctx: UpContext): Promise<void> {
  const { jwt } = ctx.config!.auth;
  ctx.jwtSecret = await ensureJwtSecret(ctx.dir);
  if (!jwt.algorithms.includes('HS256')) {
    ctx.warnings.push(
      `The adapter takes ${jwt.algorithms.join('/')} tokens signed by the backend's key, so up cannot mint one; sign one with that key.`,
    );
    return;
  }
  const secret = jwt.secretFile
    ? (await readFile(jwt.secretFile, 'utf8')).replace(/\r?\n$/, '')
    : ctx.jwtSecret!;
  const now = new Date();
  const value = await mintDevToken({
    secret,
    audience: jwt.audience,
    ...(jwt.issuer ? { issuer: jwt.issuer } : {}),
    now,
  });
  // The token's own expiry is whole seconds; report exactly that.
  const expiresAt = new Date((Math.floor(now.getTime() / 1000) + DEV_TOKEN_TTL_SECONDS) * 1000)
    .toISOString()
    .replace(/\.\d+Z$/, 'Z');
  ctx.token = { value, expiresAt };
}

async function startProcess(
  ctx: UpContext,
  role: StackRole,
  name: string,
  file: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv,
): Promise<{ exited: Promise<number | string> }> {
  const { spawnDetached } = await import('../../io/detached.js');
  await ensureLocalDir(ctx.dir);
  const logPath = join(ctx.dir, logFile);
  ctx.logOffsets.set(
    logFile,
    await stat(logPath).then(
      (info) => info.size,
      () => 0,
    ),
  );
  const child = await spawnDetached({ file, args, logFile: logPath, cwd: ctx.dir, env });
  // Ended already: nothing to record, and the wait for readiness reports the exit with the log.
  if (child.startTime === undefined) return { exited: child.exited };
  const record: ProcessRecord = {
    name,
    role,
    pid: child.pid,
    startTime: child.startTime,
    logFile,
    startedAt: new Date().toISOString(),
  };
  // Recorded before waiting for it, so that `down` finds it even if this run is killed outright.
  ctx.state!.processes.push(record);
  await writeStackState(ctx.dir, ctx.state!);
  ctx.started.push(record);
  ctx.statuses.set(name, 'started');
  return { exited: child.exited };
}

async function failUnlessReady<T>(
  ctx: UpContext,
  outcome: WaitOutcome<T>,
  what: string,
  logFiles: string[],
  timeoutMs: number,
): Promise<void> {
  if (outcome.kind === 'ready') return;
  const tails = (
    await Promise.all(logFiles.map((file) => logTail(join(ctx.dir, file), ctx.logOffsets.get(file) ?? 0)))
  ).flat();
  const reason =
    outcome.kind === 'exited'
      ? `exited (${outcome.code}) before it was ready`
      : `was not ready within ${timeoutMs / 1000} s`;
  const logs = logFiles.join(', ');
  if (tails.some((line) => /address already in use|EADDRINUSE/i.test(line))) {
    throw new RefusedError(ErrorCodes.PORT_IN_USE, `${what} ${reason}: its address is in use`, {
      details: tails,
      hint: `Stop what uses the port, or change the ports in network.yaml and run \`peruri-chain render\`. Logs: ${logs}.`,
    });
  }
  const damagedState = tails.some((line) => /failed to parse json file/i.test(line));
  throw new RemoteError(ErrorCodes.LOCAL_START_FAILED, `${what} ${reason}`, {
    host: 'localhost',
    details: tails,
    hint: damagedState
      ? `The saved chain state is damaged (the chain was killed while saving it). Start a new local chain with \`peruri-chain up --dir ${ctx.options.dir} --reset-chain\`.`
      : `See the log's end above and the whole of it in ${ctx.options.dir}/${logs}.`,
  });
}

const LOG_TAIL_LINES = 20;

async function logTail(path: string, from: number): Promise<string[]> {
  try {
    const file = await open(path, 'r');
    try {
      const size = (await file.stat()).size;
      const start = Math.max(from, size - 16_384);
      const buffer = Buffer.alloc(size - start);
      await file.read(buffer, 0, buffer.length, start);
      return buffer
        .toString('utf8')
        .split('\n')
        .map((line) => line.trimEnd())
        .filter((line) => line !== '')
        .slice(-LOG_TAIL_LINES);
    } finally {
      await file.close();
    }
  } catch {
    return [];
  }
}

async function runningRecords(state: StackState, role: StackRole): Promise<ProcessRecord[]> {
  const records = state.processes.filter((record) => record.role === role);
  const running = await Promise.all(records.map((record) => isRecordedProcessRunning(record)));
  return records.filter((_, index) => running[index]);
}

async function forget(ctx: UpContext, records: ProcessRecord[]): Promise<void> {
  const state = ctx.state!;
  state.processes = state.processes.filter((record) => !records.includes(record));
  await writeStackState(ctx.dir, state);
}

async function stopStarted(ctx: UpContext): Promise<void> {
  if (ctx.started.length === 0) return;
  const grace = (record: ProcessRecord) =>
    record.role === 'adapter' ? (ctx.adapter?.stopGraceMs ?? 15_000) : (ctx.chain?.stopGraceMs ?? 15_000);
  // The adapter first, then the chain: the reverse of the start order.
  for (const record of [...ctx.started].reverse()) await stopRecordedProcess(record, grace(record));
  await forget(ctx, ctx.started);
}

function result(ctx: UpContext): UpLocalStackResult {
  const state = ctx.state!;
  return {
    dir: ctx.dir,
    network: ctx.spec!.name,
    chainId: ctx.spec!.chainId,
    engine: ctx.engine,
    adapterUrl: ctx.adapter!.url,
    rpcUrl: ctx.config!.rpcUrl,
    token: ctx.token?.value ?? null,
    tokenExpiresAt: ctx.token?.expiresAt ?? null,
    contracts: ctx.contracts!,
    transactionsSent: ctx.transactionsSent,
    processes: state.processes.map((record) => ({
      name: record.name,
      role: record.role,
      pid: record.pid,
      status: ctx.statuses.get(record.name) ?? 'kept',
      logFile: record.logFile,
    })),
    archivedTo: ctx.archivedTo,
    localDir: LOCAL_DIR,
    warnings: ctx.warnings,
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
