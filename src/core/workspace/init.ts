import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCodes, InputError } from '../errors.js';
import type { KeySource } from '../keys/key-source.js';
import {
  encryptAccountKeys,
  isUsablePassword,
  startKeystoreKey,
  type KeystoreKey,
} from '../keys/keystore.js';
import type { NodeIdentity } from '../keys/node-key.js';
import { publicFile, secretFile, type FileSet } from '../render/file-set.js';
import type { AccountAddresses } from '../render/render-workspace.js';
import { packagePath } from '../package-paths.js';
import type { LoadSpecResult } from '../spec/load.js';
import type { NetworkSpec } from '../spec/types.js';
import { runSteps, type Step, type StepEvent } from '../steps.js';
import {
  DEPLOYER_KEYSTORE,
  DEV_PASSWORD_FILE,
  MINTER_KEYSTORE,
  SPEC_FILE,
  WALLET_MASTER_KEYSTORE,
  adminKeystore,
  nodeKeyFile,
} from './layout.js';
import { chooseKeystorePassword, type KeystorePassword, type SuppliedSecret } from './password.js';
import { assertNoWorkspace, writeNewWorkspace } from './write.js';

// What init does costs little next to the keystores' scrypt (N = 2^17: ~0.4 s of one core), so
// that derivation starts first, on the thread pool, and the rest runs beside it. The modules the
// steps need (yaml, Handlebars and the spec validator: tens of milliseconds to load) are therefore
// imported in the steps, after the derivation has started, not by this module.
const specLoader = () => import('../spec/load.js');
const nodeKeys = () => import('../keys/node-key.js');
const keySources = () => import('../keys/key-source.js');
const workspaceRenderer = () => import('../render/render-workspace.js');

export type SpecSource = { example: string } | { file: string };

export interface InitWorkspaceOptions {
  dir: string;
  spec: SpecSource;
  /** The keystore password; may be omitted only for one-machine (loopback) networks. */
  password: SuppliedSecret | undefined;
  /** Replace an existing workspace, archiving it (keys included) inside the new one. */
  force: boolean;
  keySource?: KeySource;
}

export interface InitNodeSummary {
  name: string;
  role: string;
  organisation: string;
  address: string;
  enode: string;
  identity: 'generated' | 'imported';
}

export interface InitWorkspaceResult {
  dir: string;
  network: string;
  chainId: number;
  nodes: InitNodeSummary[];
  accounts: {
    deployer: string;
    minter: string;
    admins: Record<string, { address: string; generated: boolean }>;
  };
  /** Workspace-relative paths of every file written, sorted. */
  files: string[];
  /** Workspace-relative path of the generated development password, when one was made. */
  devPasswordFile: string | undefined;
  /** Where the replaced workspace went (only with force). */
  archivedTo: string | undefined;
  warnings: string[];
}

interface InitContext {
  options: InitWorkspaceOptions;
  dir: string;
  loaded?: LoadSpecResult;
  password?: KeystorePassword;
  /** The keystores' scrypt key: started before anything else when the operator gave a password. */
  keystoreKey?: KeystoreKey;
  identities: Record<string, NodeIdentity>;
  /** Account keys by name (`deployer`, `minter`, `wallet-master`, `admin-<organisation>`). */
  accountKeys?: Record<string, { privateKey: Uint8Array; keystorePath: string }>;
  accounts?: AccountAddresses;
  files: FileSet;
  result?: InitWorkspaceResult;
}

const MODELINE = /^# yaml-language-server: \$schema=\S+$/m;

/**
 * The names of the built-in examples (folders of examples/ with a network.yaml).
 * @returns example names, sorted
 */
export async function listExamples(): Promise<string[]> {
  const entries = await readdir(packagePath('examples'), { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

async function loadSpecSource(source: SpecSource): Promise<LoadSpecResult> {
  const { loadSpecFile } = await specLoader();
  if ('file' in source) return loadSpecFile(source.file);
  const examples = await listExamples();
  if (!examples.includes(source.example)) {
    throw new InputError(
      ErrorCodes.FLAG_INVALID,
      `--example: expected one of ${examples.join(', ')}, found "${source.example}"`,
      {
        hint: 'Pick a built-in example, or pass your own spec with --spec FILE.',
      },
    );
  }
  return loadSpecFile(packagePath('examples', source.example, SPEC_FILE));
}

/**
 * The steps of `init`, for a caller that renders progress (the CLI runs them through listr2).
 * @param options - what to create and from which spec
 * @returns the steps and the context they fill; `context.result` holds the result at the end
 */
export function initWorkspaceSteps(options: InitWorkspaceOptions): {
  steps: Step<InitContext>[];
  context: InitContext;
} {
  const context: InitContext = {
    options,
    dir: resolve(options.dir),
    // An operator's password always encrypts at the standard strength (chooseKeystorePassword);
    // the first step replaces this key should the password it chooses be another.
    keystoreKey:
      options.password && isUsablePassword(options.password.value)
        ? startKeystoreKey(options.password.value, 'standard')
        : undefined,
    identities: {},
    files: new Map(),
  };
  const keySource = async () => options.keySource ?? (await keySources()).randomKeySource;
  const steps: Step<InitContext>[] = [
    {
      title: 'Read and validate the network spec',
      run: async (ctx) => {
        ctx.loaded = await loadSpecSource(options.spec);
        // A one-machine network may use a generated development password, stored 0600 and said so.
        ctx.password = await chooseKeystorePassword(ctx.loaded.spec, options.password);
        // Checked before any key exists, so a refusal costs nothing; the writer checks again.
        if (!options.force) await assertNoWorkspace(ctx.dir);
        // Without an operator's password, the key can start only now (a dev key: milliseconds).
        const early = ctx.keystoreKey;
        const password = ctx.password;
        if (!early || password.value !== options.password?.value || password.strength !== early.strength) {
          ctx.keystoreKey = startKeystoreKey(password.value, password.strength);
        }
      },
    },
    {
      title: 'Generate node and account keys',
      run: async (ctx) => {
        const { addressFromPublicKey, formatNodeKeyFile, identityFromPrivateKey, normalisePublicKey } =
          await nodeKeys();
        const source = await keySource();
        for (const node of spec(ctx).nodes) {
          if (node.publicKey) {
            const publicKey = normalisePublicKey(node.publicKey, `node ${node.name} publicKey`);
            ctx.identities[node.name] = { publicKey, address: addressFromPublicKey(publicKey) };
          } else {
            const privateKey = source.nodeKey(node.name);
            ctx.identities[node.name] = identityFromPrivateKey(privateKey);
            ctx.files.set(nodeKeyFile(node.name), secretFile(formatNodeKeyFile(privateKey)));
          }
        }
        // The wallet master secret is one of the accounts, so it shares the one scrypt derivation.
        // It is 32 random bytes stored as the keystore's "private key": a standard V3 keystore any
        // tool can open, whose address is a public fingerprint of the secret. The adapter uses the
        // bytes as a BIP-32 seed (HDNodeWallet.fromSeed), never as a signing key.
        const keystorePaths: Record<string, string> = {
          deployer: DEPLOYER_KEYSTORE,
          minter: MINTER_KEYSTORE,
          'wallet-master': WALLET_MASTER_KEYSTORE,
        };
        for (const organisation of spec(ctx).organisations) {
          if (!organisation.admin)
            keystorePaths[`admin-${organisation.name}`] = adminKeystore(organisation.name);
        }
        ctx.accountKeys = Object.fromEntries(
          Object.entries(keystorePaths).map(([name, keystorePath]) => [
            name,
            { privateKey: source.accountKey(name), keystorePath },
          ]),
        );
        // Addresses come from the keys alone, so rendering need not wait for their encryption.
        const address = (name: string) => identityFromPrivateKey(ctx.accountKeys![name]!.privateKey).address;
        ctx.accounts = {
          deployer: address('deployer'),
          minter: address('minter'),
          admins: Object.fromEntries(
            spec(ctx).organisations.map((organisation) => [
              organisation.name,
              organisation.admin?.toLowerCase() ?? address(`admin-${organisation.name}`),
            ]),
          ),
        };
      },
    },
    {
      title: 'Render genesis and node configuration',
      run: async (ctx) => {
        const { renderWorkspace } = await workspaceRenderer();
        ctx.files.set(
          SPEC_FILE,
          publicFile(
            ctx.loaded!.text.replace(MODELINE, '# yaml-language-server: $schema=./network.schema.json'),
          ),
        );
        const rendered = renderWorkspace({
          spec: spec(ctx),
          workspaceDir: ctx.dir,
          nodeIdentities: ctx.identities,
          accounts: ctx.accounts!,
        });
        for (const [path, entry] of rendered) ctx.files.set(path, entry);
      },
    },
    {
      title: 'Create encrypted account keystores',
      run: async (ctx) => {
        const password = ctx.password!;
        const accountKeys = ctx.accountKeys!;
        const keystores = await encryptAccountKeys(
          Object.fromEntries(
            Object.entries(accountKeys).map(([name, account]) => [name, account.privateKey]),
          ),
          ctx.keystoreKey!,
        );
        for (const [name, keystore] of Object.entries(keystores)) {
          ctx.files.set(accountKeys[name]!.keystorePath, secretFile(keystore.json));
        }
        if (password.generated) ctx.files.set(DEV_PASSWORD_FILE, secretFile(`${password.value}\n`));
      },
    },
    {
      title: 'Write the workspace',
      run: async (ctx) => {
        const { archivedTo } = await writeNewWorkspace(ctx.dir, ctx.files, { force: options.force });
        ctx.result = await summarise(ctx, archivedTo);
      },
    },
  ];
  return { steps, context };
}

/**
 * Creates a workspace from a spec: node keys, encrypted account keystores, genesis, each node's
 * configuration folder and the service folder, written atomically.
 * @param options - what to create and from which spec
 * @param onEvent - optional progress callback
 * @returns a summary of what was created (no secret in it)
 * @throws RefusedError when the folder already holds a workspace and force is not set
 * @example
 * await initWorkspace({ dir: 'ws', spec: { example: 'local' }, password: undefined, force: false });
 */
export async function initWorkspace(
  options: InitWorkspaceOptions,
  onEvent?: (event: StepEvent) => void,
): Promise<InitWorkspaceResult> {
  const { steps, context } = initWorkspaceSteps(options);
  await runSteps(steps, context, onEvent);
  return context.result!;
}

function spec(ctx: InitContext): NetworkSpec {
  return ctx.loaded!.spec;
}

async function summarise(ctx: InitContext, archivedTo: string | undefined): Promise<InitWorkspaceResult> {
  const { enodeUrl } = await nodeKeys();
  const networkSpec = spec(ctx);
  const warnings = [...ctx.loaded!.warnings];
  const generatedAdmins = networkSpec.organisations.filter((organisation) => !organisation.admin);
  if (generatedAdmins.length > 0) {
    warnings.push(
      `Admin keys were generated here for ${generatedAdmins.map((organisation) => organisation.name).join(', ')}; in production each organisation should give its own admin address in network.yaml.`,
    );
  }
  if (ctx.password!.generated) {
    warnings.push(
      `Development network: the keystore password was generated and stored in ${DEV_PASSWORD_FILE} (mode 0600). Never use this for a network reachable from other machines.`,
    );
  }
  return {
    dir: ctx.dir,
    network: networkSpec.name,
    chainId: networkSpec.chainId,
    nodes: networkSpec.nodes.map((node) => {
      const identity = ctx.identities[node.name]!;
      return {
        name: node.name,
        role: node.role,
        organisation: node.organisation,
        address: identity.address,
        enode: enodeUrl(identity.publicKey, node.host, node.p2pPort),
        identity: node.publicKey ? 'imported' : 'generated',
      };
    }),
    accounts: {
      deployer: ctx.accounts!.deployer,
      minter: ctx.accounts!.minter,
      admins: Object.fromEntries(
        networkSpec.organisations.map((organisation) => [
          organisation.name,
          { address: ctx.accounts!.admins[organisation.name]!, generated: !organisation.admin },
        ]),
      ),
    },
    files: [...ctx.files.keys()].sort(),
    devPasswordFile: ctx.password!.generated ? DEV_PASSWORD_FILE : undefined,
    archivedTo,
    warnings,
  };
}
