import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ErrorCodes, InputError, RefusedError, isPeruriError } from '../errors.js';
import { packageVersion } from '../package-paths.js';
import { runSteps, type Step, type StepEvent } from '../steps.js';
import type { SuppliedSecret } from '../workspace/password.js';
import { readWorkspace, type WorkspaceState } from '../workspace/read.js';
import { validateWorkspace } from '../workspace/validate.js';
import { assertUsablePassphrase, buildArchive, sha256, type BuildArchiveResult } from './archive.js';
import { collectWorkspace, type CollectWorkspaceResult } from './collect.js';

export interface SnapshotWorkspaceOptions {
  /** The workspace folder. */
  dir: string;
  /** The archive file to write. */
  out: string;
  /** Encrypts the key material; at least 12 characters. */
  passphrase: SuppliedSecret | undefined;
  /** Take each node's `data/` folder that is inside the workspace. */
  includeChainData: boolean;
  /** Replace `out` when it exists. */
  force: boolean;
  /** log2 of the scrypt work factor; age's default (18) unless a test needs speed. */
  scryptWorkFactor?: number;
  now?: () => Date;
}

export interface SnapshotWorkspaceResult {
  /** Absolute path of the archive written. */
  path: string;
  /** Its size in bytes. */
  size: number;
  /** SHA-256 of the whole archive, hex: keep it to check a copy before restoring. */
  sha256: string;
  /** Workspace files in it. */
  fileCount: number;
  /** Of which encrypted (key material, private files, the adapter database). */
  encryptedFileCount: number;
  network: string;
  chainId: number;
  createdAt: string;
  /** SQLite databases copied with the online backup API (workspace-relative). */
  databases: string[];
  /** Nodes whose data folder is in it. */
  chainData: string[];
  warnings: string[];
}

interface SnapshotContext {
  options: SnapshotWorkspaceOptions;
  out: string;
  passphrase?: string;
  workspace?: WorkspaceState;
  collected?: CollectWorkspaceResult;
  built?: BuildArchiveResult;
  warnings: string[];
  result?: SnapshotWorkspaceResult;
}

/**
 * The steps of `snapshot`, for a caller that renders progress (the CLI runs them through listr2).
 * @param options - the workspace, the archive to write and the passphrase
 * @returns the steps and the context they fill; `context.result` holds the result at the end
 */
export function snapshotWorkspaceSteps(options: SnapshotWorkspaceOptions): {
  steps: Step<SnapshotContext>[];
  context: SnapshotContext;
} {
  const context: SnapshotContext = { options, out: resolve(options.out), warnings: [] };
  const steps: Step<SnapshotContext>[] = [
    {
      title: 'Read the workspace',
      run: async (ctx) => {
        ctx.passphrase = requirePassphrase(options.passphrase);
        if (!options.force && (await exists(ctx.out))) {
          throw new RefusedError(ErrorCodes.OUTPUT_EXISTS, `${ctx.out} already exists; nothing was written`, {
            hint: 'Choose another --out, or pass --force to replace that file.',
          });
        }
        ctx.workspace = await readWorkspace(options.dir);
        ctx.warnings.push(...ctx.workspace.specWarnings);
        try {
          await validateWorkspace({ dir: options.dir });
        } catch (error) {
          if (!isPeruriError(error)) throw error;
          ctx.warnings.push(
            `The workspace does not validate (${error.details.length} problem(s)); it is kept as it is, and a restore will report the same: ${error.details.join('; ')}`,
          );
        }
      },
    },
    {
      title: 'Copy the workspace files and the adapter database',
      run: async (ctx) => {
        ctx.collected = await collectWorkspace({
          dir: options.dir,
          nodeNames: ctx.workspace!.spec.nodes.map((node) => node.name),
          includeChainData: options.includeChainData,
          exclude: [ctx.out],
        });
        ctx.warnings.push(...ctx.collected.warnings);
      },
    },
    {
      title: 'Encrypt the key material and build the archive',
      run: async (ctx) => {
        const { spec } = ctx.workspace!;
        const collected = ctx.collected!;
        ctx.built = await buildArchive({
          head: {
            createdAt: (options.now?.() ?? new Date()).toISOString(),
            peruriChainVersion: packageVersion(),
            network: spec.name,
            chainId: spec.chainId,
            sourceDir: resolve(options.dir),
            database: collected.database,
            chainData: collected.chainData,
          },
          files: collected.files,
          passphrase: ctx.passphrase!,
          ...(options.scryptWorkFactor === undefined ? {} : { scryptWorkFactor: options.scryptWorkFactor }),
        });
      },
    },
    {
      title: 'Write the archive',
      run: async (ctx) => {
        const { bytes, manifest } = ctx.built!;
        await writeFileAtomically(ctx.out, bytes);
        ctx.result = {
          path: ctx.out,
          size: bytes.length,
          sha256: sha256(bytes),
          fileCount: manifest.files.length,
          encryptedFileCount: manifest.secrets.fileCount,
          network: manifest.network,
          chainId: manifest.chainId,
          createdAt: manifest.createdAt,
          databases: manifest.database.present ? manifest.database.paths : [],
          chainData: manifest.chainData,
          warnings: ctx.warnings,
        };
      },
    },
  ];
  return { steps, context };
}

/**
 * Takes a disaster-recovery snapshot of a workspace: one archive file (mode 0600) with every file,
 * key material and the adapter database encrypted with the passphrase, a manifest and checksums.
 * @param options - the workspace, the archive to write and the passphrase
 * @param onEvent - optional progress callback
 * @returns where the archive is, its size, SHA-256 and what it holds (never a secret)
 * @throws InputError (PC_SECRET_MISSING) without a usable passphrase; RefusedError
 * (PC_OUTPUT_EXISTS) when the archive exists and `force` is not set
 * @example
 * const { sha256 } = await snapshotWorkspace({ dir: 'ws', out: 'ws.snapshot', passphrase, includeChainData: false, force: false });
 */
export async function snapshotWorkspace(
  options: SnapshotWorkspaceOptions,
  onEvent?: (event: StepEvent) => void,
): Promise<SnapshotWorkspaceResult> {
  const { steps, context } = snapshotWorkspaceSteps(options);
  await runSteps(steps, context, onEvent);
  return context.result!;
}

/**
 * The passphrase's value once it is known to be there and long enough.
 * @param supplied - the passphrase from the environment or a file
 * @returns its value
 * @throws InputError (PC_SECRET_MISSING) when absent or too short
 */
export function requirePassphrase(supplied: SuppliedSecret | undefined): string {
  if (!supplied) {
    throw new InputError(
      ErrorCodes.SECRET_MISSING,
      'No snapshot passphrase: the key material in a snapshot is always encrypted',
      {
        hint: 'Set PERURI_CHAIN_SNAPSHOT_PASSPHRASE or pass --passphrase-file FILE (never the passphrase itself as a flag).',
      },
    );
  }
  assertUsablePassphrase(supplied.value, supplied.source);
  return supplied.value;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** The archive goes to a temporary name beside the target, flushed to disk, then renamed over it. */
async function writeFileAtomically(target: string, bytes: Buffer): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temporary = join(dirname(target), `.${basename(target)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temporary, 0o600);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
