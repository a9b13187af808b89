import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ErrorCodes, InputError, RemoteError } from '../errors.js';
import { CONTRACT_NAMES, loadArtifact, type ContractName } from '../contracts/artifacts.js';
import { DEPLOYMENTS_FILE } from '../contracts/deploy-workspace.js';
import { parseDeploymentsRecord, type DeploymentsRecord } from '../contracts/record.js';
import { MachinePool, workspaceConnector, type MachineConnector } from '../deploy/machines.js';
import { ensureRuntime, type RuntimeAccess } from '../deploy/runtime.js';
import { deployedFolder, readDeployState, writeDeployState } from '../deploy/state.js';
import {
  adapterTarget,
  machineName,
  nodeTargets,
  withTargetDefaults,
  type TargetOptions,
} from '../deploy/targets.js';
import { randomKeySource, type KeySource } from '../keys/key-source.js';
import { decryptAccountKey, encryptAccountKeys } from '../keys/keystore.js';
import type { NetworkSpec } from '../spec/types.js';
import { releasingOnFailure, type Step } from '../steps.js';
import {
  ARCHIVE_DIR,
  MINTER_KEYSTORE,
  ROTATION_DIR,
  adminKeystore,
  archiveStamp,
} from '../workspace/layout.js';
import { chooseKeystorePassword, type SuppliedSecret } from '../workspace/password.js';
import { readOptional, readWorkspace } from '../workspace/read.js';
import { rerenderWorkspace } from '../workspace/rerender.js';
import { readKeyRotations, writeKeyRotations } from '../workspace/rotations.js';
import type { SshAuth } from '../../io/ssh.js';
import { ensureAdapterFolder, ensureAdapterSigner } from '../deploy/adapter-signer.js';
import { waitForAdapterHealth } from '../deploy/health.js';
import {
  ACCOUNT_ROTATION_STEPS,
  clearRotationState,
  readRotationState,
  writeRotationState,
  type AccountRotationState,
  type AccountRotationStep,
} from './state.js';
import { refuseOtherRotation, type RotateKeyContext, type RotationStepReport } from './validator.js';
import { writeFileAtomically } from '../../io/files.js';

/** Options of {@link prepareAccountRotation}. */
export interface AccountRotationOptions {
  dir: string;
  account: 'minter' | 'admin';
  /** For `admin`: the organisation (default: the only one whose admin keystore is in the workspace). */
  organisation?: string;
  dryRun: boolean;
  auth: SshAuth | undefined;
  acceptNewHostKey: boolean;
  password: SuppliedSecret | undefined;
  /** How long the adapter may take to answer /health after its restart (default 180 s). */
  timeoutMs?: number;
  pollIntervalMs?: number;
  systemdUnitDir?: string;
  dockerSocket?: string;
  adapterCommand?: string;
  adapterImage?: string;
  connector?: MachineConnector;
  keySource?: KeySource;
  signal?: AbortSignal;
}

type RoleName = 'DEFAULT_ADMIN_ROLE' | 'MINTER_ROLE' | 'ANCHOR_ROLE';

// OpenZeppelin's DEFAULT_ADMIN_ROLE is 0x00…; the others are keccak256 of their names, as the
// contracts define them.
async function roleId(role: RoleName): Promise<string> {
  if (role === 'DEFAULT_ADMIN_ROLE') return `0x${'00'.repeat(32)}`;
  const { id } = await import('ethers');
  return id(role);
}

// The minter signs mints on the token and badges and anchors batches on the log.
const MINTER_ROLES: Record<ContractName, RoleName> = {
  PointsToken: 'MINTER_ROLE',
  Badges: 'MINTER_ROLE',
  ActivityLog: 'ANCHOR_ROLE',
};

interface Run {
  options: AccountRotationOptions;
  dir: string;
  spec: NetworkSpec;
  state: AccountRotationState;
  password: { value: string; strength: 'standard' | 'dev' };
  record: DeploymentsRecord;
  pool: MachinePool;
  targetOptions: TargetOptions;
  /** The keystore the role is held by (workspace-relative). */
  keystore: string;
  /** Signs the grants and revocations: an admin key of the workspace. */
  granter: { keystore: string; organisation: string } | undefined;
  rpcUrl?: string;
  reports: RotationStepReport[];
  warnings: string[];
}

const ACTIONS: Record<AccountRotationStep, (account: string) => string> = {
  grant: (account) => `grant the ${account}'s roles on PointsToken, Badges and ActivityLog to the new key`,
  switch: (account) =>
    account === 'minter'
      ? 'replace the minter keystore, re-render adapter.yaml, and have the adapter reload its signer, without a restart (when deployed)'
      : `replace the ${account} keystore in the workspace`,
  revoke: (account) =>
    account === 'minter'
      ? "revoke the old minter's roles (signed by an admin) once the adapter runs with the new key"
      : 'the old admin renounces DEFAULT_ADMIN_ROLE on every contract',
};

/**
 * Builds the steps that rotate an account key without downtime: a new keystore (encrypted with
 * the workspace password) gets the role first, the adapter (for the minter) moves to it, and only
 * then does the old key lose the role. Transactions go through the transaction node's JSON-RPC,
 * forwarded over SSH as `deploy` does. Progress is recorded in `rotate-state.json`.
 * @param options - workspace, account, SSH login, secrets, limits
 * @returns the steps and the context whose `result` the last step sets
 * @throws InputError when the contracts are not deployed or no admin key of the workspace can sign
 */
export async function prepareAccountRotation(
  options: AccountRotationOptions,
): Promise<{ steps: Step<RotateKeyContext>[]; context: RotateKeyContext }> {
  const dir = resolve(options.dir);
  const workspace = await readWorkspace(dir);
  const { spec, accounts } = workspace;
  const organisation =
    options.account === 'admin'
      ? pickOrganisation(spec, workspace.accounts.admins, dir, options.organisation)
      : undefined;
  const keystore = organisation ? adminKeystore(organisation) : MINTER_KEYSTORE;
  const subject = organisation ? `admin:${organisation}` : 'minter';
  const recorded = await readRotationState(dir);
  refuseOtherRotation(
    recorded,
    `the ${subject} rotation`,
    (state) =>
      state.kind === 'account' && state.account === options.account && state.organisation === organisation,
  );
  const resumed = recorded as AccountRotationState | undefined;
  const oldAddress = resumed?.old.address ?? (organisation ? accounts.admins[organisation] : accounts.minter);
  if (!oldAddress) {
    throw new InputError(ErrorCodes.WORKSPACE_INVALID, `${keystore} is missing or unreadable`, {
      hint: 'Run `peruri-chain validate` and restore the keystore first.',
    });
  }
  const recordText = await readOptional(join(dir, DEPLOYMENTS_FILE));
  if (recordText === undefined) {
    throw new InputError(
      ErrorCodes.WORKSPACE_INVALID,
      `No contracts are recorded in ${DEPLOYMENTS_FILE}: there is no role to rotate`,
      {
        hint: 'Deploy the contracts first (`peruri-chain deploy`); before that, a new key is just `render` after removing the keystore.',
      },
    );
  }
  const record = parseDeploymentsRecord(JSON.parse(recordText), DEPLOYMENTS_FILE);
  const missing = CONTRACT_NAMES.filter((name) => !record.contracts[name]);
  if (missing.length > 0) {
    throw new InputError(ErrorCodes.WORKSPACE_INVALID, `${DEPLOYMENTS_FILE} lacks ${missing.join(', ')}`, {
      hint: 'Finish the contract deployment first (`peruri-chain deploy --only contracts`).',
    });
  }
  const done = new Set(resumed?.done ?? []);
  const context: RotateKeyContext = {};
  const plan = ACCOUNT_ROTATION_STEPS.map((id) => ({ id, action: ACTIONS[id](subject) }));
  if (options.dryRun) {
    return {
      context,
      steps: [
        {
          title: 'Plan the rotation (dry run: nothing is touched)',
          run: (ctx) => {
            ctx.result = {
              dir,
              network: spec.name,
              kind: 'account',
              subject,
              dryRun: true,
              oldAddress,
              newAddress: resumed?.new.address ?? null,
              steps: plan.map((step) => ({
                ...step,
                outcome: done.has(step.id) ? 'already done' : 'would run',
              })),
              archivedKey: resumed?.archivedKey ?? null,
              stateFile: null,
              warnings: workspace.specWarnings,
            };
          },
        },
      ],
    };
  }
  if (!options.auth) {
    throw new InputError(ErrorCodes.SECRET_MISSING, 'No SSH login was given', {
      hint: 'Pass --ssh-key-file or start ssh-agent.',
    });
  }
  const password = await chooseKeystorePassword(spec, options.password, dir);
  if (password.generated) {
    throw new InputError(ErrorCodes.SECRET_MISSING, 'No keystore password for the account keystores', {
      hint: 'Set PERURI_CHAIN_KEYSTORE_PASSWORD or pass --keystore-password-file FILE with the workspace password.',
    });
  }
  // The minter's roles are granted by an admin; an admin grants its successor itself.
  const granter = organisation
    ? { keystore, organisation }
    : (() => {
        const candidate = spec.organisations.find((org) => !org.admin && accounts.admins[org.name]);
        return candidate
          ? { keystore: adminKeystore(candidate.name), organisation: candidate.name }
          : undefined;
      })();
  if (!granter) {
    throw new InputError(
      ErrorCodes.WORKSPACE_INVALID,
      'No admin key in the workspace can grant the minter role',
      {
        hint: "Every organisation's admin is an external address: have one of them call grantRole/revokeRole, then replace service/minter.json and run `peruri-chain render`.",
      },
    );
  }
  const connector = workspaceConnector(dir, options);
  const run: Run = {
    options,
    dir,
    spec,
    state: resumed ?? (undefined as unknown as AccountRotationState),
    password: { value: password.value, strength: password.strength },
    record,
    pool: new MachinePool(connector, options.dockerSocket),
    targetOptions: withTargetDefaults(options),
    keystore,
    granter,
    reports: [],
    warnings: [...workspace.specWarnings],
  };
  const steps: Step<RotateKeyContext>[] = [
    {
      title: 'Reach the transaction node over SSH',
      run: async () => {
        run.rpcUrl = await txNodeUrl(run);
      },
    },
    {
      title: resumed
        ? `Resume the ${subject} rotation (done: ${[...done].join(', ') || 'nothing'})`
        : `Make the new ${subject} keystore`,
      run: async () => {
        if (!resumed) run.state = await startRotation(run, options.account, organisation, oldAddress);
      },
    },
    ...plan.map((planned) => ({
      title: planned.action,
      run: async () => {
        if (run.state.done.includes(planned.id)) {
          run.reports.push({ ...planned, outcome: 'already done' as const });
          return;
        }
        const detail = await STEP_BODIES[planned.id](run);
        run.state.done.push(planned.id);
        await writeRotationState(dir, run.state);
        run.reports.push({ ...planned, outcome: 'done' as const, detail });
      },
    })),
    {
      title: 'Record the rotation and close the connections',
      run: async (ctx) => {
        await run.pool.closeAll();
        const history = await readKeyRotations(dir);
        await writeKeyRotations(dir, {
          version: 1,
          genesisValidators: history?.genesisValidators ?? (await genesisValidators(dir)),
          rotations: [
            ...(history?.rotations ?? []),
            {
              kind: options.account,
              ...(organisation ? { subject: organisation } : {}),
              from: run.state.old.address,
              to: run.state.new.address,
              completedAt: new Date().toISOString(),
            },
          ],
        });
        await rm(join(dir, run.state.new.keystoreFile), { force: true });
        await clearRotationState(dir);
        ctx.result = {
          dir,
          network: spec.name,
          kind: 'account',
          subject,
          dryRun: false,
          oldAddress: run.state.old.address,
          newAddress: run.state.new.address,
          steps: run.reports,
          archivedKey: run.state.archivedKey ?? null,
          stateFile: null,
          warnings: run.warnings,
        };
      },
    },
  ];
  return { steps: releasingOnFailure(steps, () => run.pool.closeAll()), context };
}

function pickOrganisation(
  spec: NetworkSpec,
  admins: Record<string, string | undefined>,
  dir: string,
  asked: string | undefined,
): string {
  const own = spec.organisations.filter((org) => !org.admin && admins[org.name]).map((org) => org.name);
  if (asked) {
    if (!own.includes(asked)) {
      throw new InputError(
        ErrorCodes.FLAG_INVALID,
        `--organisation: expected an organisation whose admin keystore is in ${dir} (${own.join(', ') || 'none'}), found "${asked}"`,
        {
          hint: 'An external admin address (network.yaml organisations[].admin) is rotated by its holder, not here.',
        },
      );
    }
    return asked;
  }
  if (own.length !== 1) {
    throw new InputError(
      ErrorCodes.FLAG_INVALID,
      `--account admin needs --organisation: ${own.length === 0 ? 'no organisation has' : `${own.join(', ')} have`} an admin keystore in the workspace`,
    );
  }
  return own[0]!;
}

async function genesisValidators(dir: string): Promise<string[]> {
  const { decodeExtraData } = await import('../genesis/extra-data.js');
  const { sortValidators } = await import('../genesis/build.js');
  const genesis = JSON.parse(await readFile(join(dir, 'genesis.json'), 'utf8')) as { extraData: string };
  return sortValidators(decodeExtraData(genesis.extraData).validators);
}

async function startRotation(
  run: Run,
  account: 'minter' | 'admin',
  organisation: string | undefined,
  oldAddress: string,
): Promise<AccountRotationState> {
  const privateKey = (run.options.keySource ?? randomKeySource).accountKey(
    organisation ? `admin-${organisation}` : 'minter',
  );
  const { key } = await encryptAccountKeys({ key: privateKey }, run.password.value, run.password.strength);
  const keystoreFile = `${ROTATION_DIR}/${organisation ? `admin-${organisation}` : 'minter'}.json`;
  await mkdir(join(run.dir, ROTATION_DIR), { recursive: true, mode: 0o700 });
  await chmod(join(run.dir, ROTATION_DIR), 0o700);
  await writeFile(join(run.dir, keystoreFile), key!.json, { mode: 0o600 });
  await chmod(join(run.dir, keystoreFile), 0o600);
  const state: AccountRotationState = {
    version: 1,
    kind: 'account',
    network: run.spec.name,
    chainId: run.spec.chainId,
    account,
    ...(organisation ? { organisation } : {}),
    old: { address: oldAddress },
    new: { address: key!.address, keystoreFile },
    done: [],
    startedAt: new Date().toISOString(),
  };
  await writeRotationState(run.dir, state);
  return state;
}

async function txNodeUrl(run: Run): Promise<string> {
  const targets = await nodeTargets(run.spec, run.dir, run.targetOptions);
  const name = run.spec.service.rpcNode ?? run.spec.nodes.find((node) => node.role === 'tx')!.name;
  const target = targets.find((candidate) => candidate.node.name === name)!;
  const machine = await run.pool.get(target.machine);
  return (await machine.forwardTcp(target.rpc.host, target.rpc.port)).url;
}

/** Where the key that signs grants and revocations is now: the live keystore, or the archive. */
function granterKeystore(run: Run): { path: string; address: string } {
  const { state } = run;
  if (run.options.account === 'admin') {
    // The old admin signs; once switched, its keystore lives in the archive.
    return { path: state.archivedKey ?? run.keystore, address: state.old.address };
  }
  return { path: run.granter!.keystore, address: '' };
}

/**
 * Sends role changes (grantRole, revokeRole, renounceRole) where the chain does not already show
 * them, one contract after another, each mined before the next.
 */
async function changeRoles(
  run: Run,
  signerKeystore: { path: string; address: string },
  change: 'grant' | 'revoke' | 'renounce',
  account: string,
  roles: Record<ContractName, RoleName>,
): Promise<string> {
  const { Contract, Wallet } = await import('ethers');
  const { connectRpc, rpcFailure } = await import('../../io/rpc.js');
  const url = run.rpcUrl!;
  const provider = await connectRpc(url, run.options.signal ? { signal: run.options.signal } : {});
  try {
    const json = await readFile(join(run.dir, signerKeystore.path), 'utf8');
    const unlocked = await decryptAccountKey(json, run.password.value, signerKeystore.path);
    if (signerKeystore.address && unlocked.address !== signerKeystore.address) {
      throw new InputError(
        ErrorCodes.KEY_INVALID,
        `${signerKeystore.path} holds ${unlocked.address}, expected ${signerKeystore.address}`,
      );
    }
    const signer = new Wallet(unlocked.privateKey, provider);
    let sent = 0;
    for (const name of CONTRACT_NAMES) {
      const address = run.record.contracts[name]!.address;
      const contract = new Contract(address, loadArtifact(name).abi, signer);
      const role = await roleId(roles[name]);
      const has = (await contract
        .getFunction('hasRole')
        .staticCall(role, account)
        .catch((error: unknown) => {
          throw rpcFailure(url, `read ${roles[name]} of ${account} on ${name}`, error);
        })) as boolean;
      if (has === (change === 'grant')) continue;
      const overrides = { type: 0, gasPrice: 0n };
      try {
        const tx =
          change === 'grant'
            ? await contract.getFunction('grantRole').send(role, account, overrides)
            : change === 'revoke'
              ? await contract.getFunction('revokeRole').send(role, account, overrides)
              : await contract.getFunction('renounceRole').send(role, account, overrides);
        const receipt = await tx.wait(1, 120_000);
        if (!receipt || receipt.status !== 1) throw new Error(`transaction ${tx.hash} reverted`);
      } catch (error) {
        throw new RemoteError(
          ErrorCodes.REMOTE_FAILED,
          `${change} ${roles[name]} of ${account} on ${name} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
          {
            host: 'the transaction node',
            command: `${change}Role`,
            hint: 'Check that the signing admin still holds DEFAULT_ADMIN_ROLE and the chain makes blocks; re-running rotate-key resumes here.',
            cause: error,
          },
        );
      }
      sent++;
    }
    return sent === 0 ? 'already in place' : `${sent} transaction(s)`;
  } finally {
    provider.destroy();
  }
}

function rolesFor(run: Run): Record<ContractName, RoleName> {
  return run.options.account === 'admin'
    ? { PointsToken: 'DEFAULT_ADMIN_ROLE', Badges: 'DEFAULT_ADMIN_ROLE', ActivityLog: 'DEFAULT_ADMIN_ROLE' }
    : MINTER_ROLES;
}

async function switchKeystore(run: Run): Promise<string> {
  const { dir, state } = run;
  const current = await readOptional(join(dir, run.keystore));
  const { keystoreAddress } = await import('../keys/keystore.js');
  if (current === undefined || keystoreAddress(current, run.keystore) !== state.new.address) {
    if (current !== undefined && keystoreAddress(current, run.keystore) === state.old.address) {
      // Already encrypted with the workspace password: archived as it is.
      const archived = join(ARCHIVE_DIR, archiveStamp(), run.keystore);
      await mkdir(dirname(join(dir, archived)), { recursive: true, mode: 0o700 });
      await chmod(join(dir, ARCHIVE_DIR), 0o700);
      await copyFile(join(dir, run.keystore), join(dir, archived));
      await chmod(join(dir, archived), 0o600);
      state.archivedKey = archived;
      await writeRotationState(dir, state);
    }
    await writeFileAtomically(
      join(dir, run.keystore),
      await readFile(join(dir, state.new.keystoreFile)),
      0o600,
    );
  }
  await rerenderWorkspace({ dir, dryRun: false, force: false, password: undefined });
  if (run.options.account !== 'minter') return `${run.keystore} replaced`;
  const deployState = await readDeployState(dir, run.spec.name, run.spec.chainId);
  if (!deployState.adapter) {
    run.warnings.push(
      'The adapter is not deployed: only the workspace was switched; `peruri-chain deploy` puts it on the service machine.',
    );
    return 'workspace switched (the adapter is not deployed)';
  }
  const target = await adapterTarget(run.spec, dir, run.targetOptions);
  const machine = await run.pool.get(target.machine);
  const access: RuntimeAccess = {
    machine,
    docker: () => run.pool.docker(target.machine),
    ...(run.options.signal ? { signal: run.options.signal } : {}),
  };
  // Only the signer changed: while the adapter runs as its target defines it, the new keystore and
  // adapter.yaml are written into its folder in place and the runtime stays as it is (a unit from
  // an older version is replaced and restarted instead).
  const folder = await ensureAdapterFolder(access, target);
  const runtime = await ensureRuntime(access, target.runtime);
  const limits = {
    timeoutMs: run.options.timeoutMs ?? 180_000,
    pollMs: run.options.pollIntervalMs ?? 1_000,
    ...(run.options.signal ? { signal: run.options.signal } : {}),
  };
  await waitForAdapterHealth(access, target, {
    ...limits,
    message: (reason) => `The adapter does not answer: ${reason}`,
    hint: 'The old minter keeps its roles until the adapter runs on the new key; look at the log lines below and re-run rotate-key.',
  });
  // The adapter reloads its signer on SIGHUP: intake goes on, and what the old key signed is
  // still settled (the old key keeps its roles until the revoke step).
  const signer = await ensureAdapterSigner(access, target, limits);
  deployState.adapter = {
    ...deployState.adapter,
    ...deployedFolder(
      target,
      folder === 'changed' || runtime === 'changed' || signer !== 'unchanged',
      deployState.adapter,
      target.runtimeHash,
    ),
  };
  await writeDeployState(dir, deployState);
  const where = machineName(target.machine);
  if (runtime === 'changed' || signer === 'restarted')
    return `adapter restarted on ${where} with the new key`;
  return signer === 'reloaded'
    ? `adapter on ${where} reloaded its signer: the new key signs, no restart`
    : `adapter on ${where} already signs with the new key`;
}

const STEP_BODIES: Record<AccountRotationStep, (run: Run) => Promise<string>> = {
  grant: (run) => changeRoles(run, granterKeystore(run), 'grant', run.state.new.address, rolesFor(run)),
  switch: switchKeystore,
  // An old admin gives up its own role (OpenZeppelin's renounceRole(role, self)); the old minter's
  // roles are revoked by the admin that granted the new one.
  revoke: (run) =>
    changeRoles(
      run,
      granterKeystore(run),
      run.options.account === 'admin' ? 'renounce' : 'revoke',
      run.state.old.address,
      rolesFor(run),
    ),
};
