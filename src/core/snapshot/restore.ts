import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, parse, parseDocument } from 'yaml';
import { ErrorCodes, InputError, RefusedError, isPeruriError } from '../errors.js';
import type { FileSet } from '../render/file-set.js';
import { parseSpec } from '../spec/load.js';
import { runSteps, type Step, type StepEvent } from '../steps.js';
import { SPEC_FILE } from '../workspace/layout.js';
import type { SuppliedSecret } from '../workspace/password.js';
import { readOptional } from '../workspace/read.js';
import { rerenderWorkspace } from '../workspace/rerender.js';
import { validateWorkspace } from '../workspace/validate.js';
import { isNonEmptyDirectory, writeNewWorkspace } from '../workspace/write.js';
import type { PushNodeOptions, PushNodeResult } from '../deploy/push-node.js';
import { decryptArchive, verifyArchive, type ArchiveFile, type VerifiedArchive } from './archive.js';

export interface RestoreSnapshotOptions {
  /** The snapshot archive. */
  file: string;
  /** The workspace folder to create. */
  dir: string;
  /** The passphrase the snapshot was taken with. */
  passphrase: SuppliedSecret | undefined;
  /** Replace an existing workspace; it is moved, keys included, into the new one's `.archive/`. */
  force: boolean;
  /** Allow replacing a workspace of another chain id. */
  allowChainChange: boolean;
  /** Verify everything and report the plan; write nothing. */
  dryRun: boolean;
  /** Give this node a new host in the restored network.yaml (the node moves to a new machine). */
  moveNode?: { name: string; host: string };
  /** With moveNode: put that node's folder onto its new machine and start it (as deploy does). */
  push?: Omit<PushNodeOptions, 'dir' | 'node'>;
}

export interface RestoreSnapshotResult {
  file: string;
  /** Absolute path of the restored workspace. */
  dir: string;
  dryRun: boolean;
  network: string;
  chainId: number;
  /** When the snapshot was taken, and by which peruri-chain version. */
  createdAt: string;
  peruriChainVersion: string;
  fileCount: number;
  encryptedFileCount: number;
  databases: string[];
  chainData: string[];
  /** Where the replaced workspace went (only with force). */
  archivedTo: string | undefined;
  /** The node given a new host, if any. */
  movedNode: { name: string; from: string; to: string } | undefined;
  /** Generated files re-derived for the new folder or host (keys are never touched). */
  rerendered: string[];
  /** The restored workspace passed `validate` (false only for a dry run, which writes nothing). */
  validated: boolean;
  /** With push: the moved node, put onto its new machine and making blocks. */
  pushed: PushNodeResult | undefined;
  warnings: string[];
}

interface RestoreContext {
  options: RestoreSnapshotOptions;
  file: string;
  dir: string;
  verified?: VerifiedArchive;
  files: ArchiveFile[];
  movedNode?: { name: string; from: string; to: string };
  archivedTo?: string;
  rerendered: string[];
  validated: boolean;
  pushed?: PushNodeResult;
  warnings: string[];
  /** Known once the snapshot was read; final once the steps ran. */
  readonly result: RestoreSnapshotResult | undefined;
}

/**
 * The steps of `restore`, for a caller that renders progress (the CLI runs them through listr2).
 * Every check (structure, seal, each checksum, passphrase, target folder, the edited spec) comes
 * before the first write.
 * @param options - the archive, the target folder, the passphrase and what to allow
 * @returns the steps and the context they fill; `context.result` holds the result at the end
 */
export function restoreSnapshotSteps(options: RestoreSnapshotOptions): {
  steps: Step<RestoreContext>[];
  context: RestoreContext;
} {
  const context: RestoreContext = {
    options,
    file: resolve(options.file),
    dir: resolve(options.dir),
    files: [],
    rerendered: [],
    validated: false,
    warnings: [],
    get result() {
      return this.verified ? summarise(this) : undefined;
    },
  };
  const dryRun = (ctx: RestoreContext) => (ctx.options.dryRun ? 'dry run: nothing is written' : false);
  const steps: Step<RestoreContext>[] = [
    {
      title: 'Read the snapshot and check every checksum',
      run: async (ctx) => {
        const bytes = await readFile(ctx.file).catch((error: NodeJS.ErrnoException) => {
          throw new InputError(
            ErrorCodes.SNAPSHOT_INVALID,
            `Cannot read the snapshot ${ctx.file}: ${error.code ?? error.message}`,
            {
              hint: 'Pass the path of an archive written by `peruri-chain snapshot`.',
            },
          );
        });
        ctx.verified = await verifyArchive(bytes, ctx.file);
      },
    },
    {
      title: 'Decrypt and check the key material',
      run: async (ctx) => {
        if (!options.passphrase) {
          throw new InputError(
            ErrorCodes.SECRET_MISSING,
            'No snapshot passphrase: the key material in a snapshot is encrypted',
            {
              hint: 'Set PERURI_CHAIN_SNAPSHOT_PASSPHRASE or pass --passphrase-file FILE (never the passphrase itself as a flag).',
            },
          );
        }
        const secret = await decryptArchive(ctx.verified!, options.passphrase.value, ctx.file);
        ctx.files = [...ctx.verified!.plainFiles, ...secret].sort((a, b) => (a.path < b.path ? -1 : 1));
      },
    },
    {
      title: 'Check the target folder',
      run: async (ctx) => {
        if (options.moveNode) ctx.movedNode = moveNode(ctx.files, options.moveNode);
        await checkTarget(ctx.dir, ctx.verified!.manifest.chainId, options);
        const { sourceDir } = ctx.verified!.manifest;
        if (options.dryRun && (sourceDir !== ctx.dir || ctx.movedNode)) {
          ctx.warnings.push(
            `Generated files would be re-rendered for ${ctx.movedNode ? `the new host of ${ctx.movedNode.name}` : `this folder (the snapshot was taken in ${sourceDir})`}.`,
          );
        }
      },
    },
    {
      title: 'Write the workspace',
      skip: dryRun,
      run: async (ctx) => {
        ctx.archivedTo = (await writeRestoredWorkspace(ctx.dir, ctx.files, options.force)).archivedTo;
      },
    },
    {
      title: 'Re-render generated files for this folder',
      skip: dryRun,
      run: async (ctx) => {
        ctx.rerendered = await rerenderForHere(ctx.dir, ctx.warnings);
      },
    },
    {
      title: 'Validate the restored workspace',
      skip: dryRun,
      run: async (ctx) => {
        try {
          ctx.warnings.push(...(await validateWorkspace({ dir: ctx.dir })).warnings);
        } catch (error) {
          if (!isPeruriError(error)) throw error;
          throw new InputError(
            ErrorCodes.WORKSPACE_INVALID,
            `The snapshot was restored to ${ctx.dir}, but the workspace does not validate`,
            {
              details: error.details,
              hint: 'The snapshot was probably taken of a workspace with these problems (snapshot warns when it is); fix them there or here, then run `peruri-chain validate`.',
              cause: error,
            },
          );
        }
        ctx.validated = true;
      },
    },
    {
      title: `Put node ${options.moveNode?.name ?? ''} onto its new machine and start it`,
      skip: (ctx) =>
        ctx.options.dryRun
          ? 'dry run: nothing is written'
          : !ctx.options.push || !ctx.options.moveNode
            ? 'no --push'
            : false,
      run: async (ctx) => {
        const { pushNode } = await import('../deploy/push-node.js');
        const node = ctx.options.moveNode!.name;
        ctx.pushed = await pushNode({ ...ctx.options.push!, dir: ctx.dir, node });
        // The moved node's enode (host included) is in every allowlist: the others need theirs.
        const others = [
          ...new Set(
            ctx.rerendered
              .map((path) => /^nodes\/([^/]+)\//.exec(path)?.[1])
              .filter((name): name is string => name !== undefined && name !== node),
          ),
        ].sort();
        if (others.length > 0) {
          ctx.warnings.push(
            `The allowlists of ${others.join(', ')} now name ${node}'s new host: run \`peruri-chain deploy --only nodes --dir ${ctx.dir}\` so they accept it.`,
          );
        }
      },
    },
  ];
  return { steps, context };
}

/**
 * Restores a workspace from a snapshot: verifies the archive, its seal, every checksum and the
 * passphrase before writing anything; refuses an existing workspace (unless `force`) and one of
 * another chain (unless `allowChainChange`); writes atomically with the recorded modes (0600 for
 * key material); re-renders generated files when the folder or a node's host changed; validates.
 * @param options - the archive, the target folder, the passphrase and what to allow
 * @param onEvent - optional progress callback
 * @returns what was restored and where
 * @throws InputError (PC_SNAPSHOT_INVALID naming the damaged entry, PC_SNAPSHOT_PASSPHRASE_WRONG,
 * PC_SECRET_MISSING, PC_SPEC_INVALID for a bad --host) with nothing written; RefusedError
 * (PC_WORKSPACE_EXISTS, PC_CHAIN_MISMATCH) with nothing written; InputError (PC_WORKSPACE_INVALID)
 * when the written workspace does not validate
 * @example
 * await restoreSnapshot({ file: 'ws.snapshot', dir: 'ws', passphrase, force: false, allowChainChange: false, dryRun: false });
 */
export async function restoreSnapshot(
  options: RestoreSnapshotOptions,
  onEvent?: (event: StepEvent) => void,
): Promise<RestoreSnapshotResult> {
  const { steps, context } = restoreSnapshotSteps(options);
  await runSteps(steps, context, onEvent);
  return context.result!;
}

/**
 * Rewrites one node's `host` in the restored network.yaml, touching no other byte, and checks the
 * edited spec (a relative installDir, for example, allows loopback hosts only).
 */
function moveNode(
  files: ArchiveFile[],
  move: { name: string; host: string },
): { name: string; from: string; to: string } {
  const specFile = files.find((file) => file.path === SPEC_FILE);
  if (!specFile) {
    throw new InputError(
      ErrorCodes.SNAPSHOT_INVALID,
      `The snapshot holds no ${SPEC_FILE}; --node cannot be applied`,
    );
  }
  const text = specFile.data.toString('utf8');
  const document = parseDocument(text);
  const nodes = document.get('nodes');
  const items = isSeq(nodes) ? nodes.items.filter(isMap) : [];
  const node = items.find((item) => item.get('name') === move.name);
  const host = node?.get('host', true);
  if (!node || !isScalar(host) || !host.range) {
    const names = items.map((item) => String(item.get('name'))).join(', ');
    throw new InputError(ErrorCodes.FLAG_INVALID, `--node: expected one of ${names}, found "${move.name}"`, {
      hint: 'Name a node of the snapshot’s network.yaml.',
    });
  }
  // An IPv6 address is quoted: a plain scalar may not hold every form of it.
  const value = move.host.includes(':') ? JSON.stringify(move.host) : move.host;
  const edited = text.slice(0, host.range[0]) + value + text.slice(host.range[1]);
  parseSpec(edited, `${SPEC_FILE} with --host ${move.host}`);
  specFile.data = Buffer.from(edited);
  return { name: move.name, from: String(host.value), to: move.host };
}

async function checkTarget(dir: string, chainId: number, options: RestoreSnapshotOptions): Promise<void> {
  if (!(await isNonEmptyDirectory(dir))) return;
  const existingText = await readOptional(join(dir, SPEC_FILE));
  let existingChainId: unknown;
  try {
    existingChainId =
      existingText === undefined ? undefined : (parse(existingText) as { chainId?: unknown })?.chainId;
  } catch {
    existingChainId = undefined;
  }
  if (typeof existingChainId === 'number' && existingChainId !== chainId && !options.allowChainChange) {
    throw new RefusedError(
      ErrorCodes.CHAIN_MISMATCH,
      `${dir} holds a workspace of chain ${existingChainId}, but the snapshot is of chain ${chainId}; nothing was written`,
      {
        hint: 'Restore into another --dir, or pass --force --allow-chain-change to replace that workspace (it is moved to .archive/).',
      },
    );
  }
  if (!options.force) {
    throw new RefusedError(ErrorCodes.WORKSPACE_EXISTS, `${dir} is not empty; nothing was written`, {
      hint: 'Restore into an empty or new --dir, or pass --force to replace what is there (it is moved, keys included, into the restored workspace’s .archive/).',
    });
  }
}

/**
 * Writes the restored files with one atomic writer (writeNewWorkspace: staging folder, then
 * rename). Its FileSet holds text, so files that are not UTF-8 (the adapter database, chain data)
 * are staged beside the target first and renamed into place right after: same file system, so
 * each rename is atomic and cannot run out of space.
 */
async function writeRestoredWorkspace(
  dir: string,
  files: ArchiveFile[],
  force: boolean,
): Promise<{ archivedTo: string | undefined }> {
  const text: FileSet = new Map();
  const binary: ArchiveFile[] = [];
  for (const file of files) {
    // Key material is owner-only whatever mode it was found with.
    const mode = file.secret ? file.mode & ~0o077 : file.mode;
    if (isUtf8(file.data))
      text.set(file.path, { content: file.data.toString('utf8'), mode, secret: file.secret });
    else binary.push({ ...file, mode });
  }
  const side = join(dirname(dir), `.${basename(dir)}.restore-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dirname(dir), { recursive: true });
    for (const file of binary) {
      const target = join(side, file.path);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await writeFile(target, file.data, { mode: file.mode });
      await chmod(target, file.mode);
    }
    const written = await writeNewWorkspace(dir, text, { force });
    for (const file of binary) {
      await mkdir(dirname(join(dir, file.path)), { recursive: true, mode: 0o755 });
      await rename(join(side, file.path), join(dir, file.path));
    }
    return written;
  } finally {
    await rm(side, { recursive: true, force: true });
  }
}

/**
 * Re-derives the generated files (they hold absolute paths and every node's host) when they
 * differ from what network.yaml gives here; never when it would make a key, which would mean the
 * snapshot lacked one (validation then says so).
 */
async function rerenderForHere(dir: string, warnings: string[]): Promise<string[]> {
  const base = { dir, force: false, password: undefined };
  let plan;
  try {
    plan = await rerenderWorkspace({ ...base, dryRun: true });
  } catch (error) {
    if (!isPeruriError(error)) throw error;
    warnings.push(`Generated files were not re-rendered: ${error.message}`);
    return [];
  }
  if (plan.generatedKeys.length > 0) {
    warnings.push(
      `Generated files were not re-rendered: keys are missing (${plan.generatedKeys.join(', ')}).`,
    );
    return [];
  }
  const changed = [...plan.created, ...plan.updated, ...plan.removed].sort();
  if (changed.length > 0) await rerenderWorkspace({ ...base, dryRun: false });
  return changed;
}

function summarise(ctx: RestoreContext): RestoreSnapshotResult {
  const { manifest } = ctx.verified!;
  return {
    file: ctx.file,
    dir: ctx.dir,
    dryRun: ctx.options.dryRun,
    network: manifest.network,
    chainId: manifest.chainId,
    createdAt: manifest.createdAt,
    peruriChainVersion: manifest.peruriChainVersion,
    fileCount: manifest.files.length,
    encryptedFileCount: manifest.secrets.fileCount,
    databases: manifest.database.present ? manifest.database.paths : [],
    chainData: manifest.chainData,
    archivedTo: ctx.archivedTo,
    movedNode: ctx.movedNode,
    rerendered: ctx.rerendered,
    validated: ctx.validated,
    pushed: ctx.pushed,
    warnings: ctx.warnings,
  };
}
