import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, InputError } from '../errors.js';
import { writeJsonAtomically } from '../../io/files.js';

/** Where `up` keeps what it runs: state file, logs, chain state, JWT secret (workspace-relative). */
export const LOCAL_DIR = '.local';
/** The record of the running stack's processes. */
export const STACK_FILE = `${LOCAL_DIR}/stack.json`;
/** anvil's saved chain (accounts, code, storage, blocks), loaded at start and dumped on the way. */
export const CHAIN_STATE_FILE = `${LOCAL_DIR}/chain-state.json`;
/** The HS256 secret shared by the local adapter and the tokens `up` mints (0600). */
export const JWT_SECRET_FILE = `${LOCAL_DIR}/jwt-secret`;

/** The engine that runs the local chain. */
export type LocalEngine = 'anvil' | 'besu';

/** What a process of the stack is for. */
export type StackRole = 'chain' | 'adapter';

/** One detached process `up` started: enough to find it again and to be sure it is the same one. */
export interface ProcessRecord {
  /** `anvil`, `besu-<node>` or `adapter`. */
  name: string;
  role: StackRole;
  pid: number;
  /** The process's start time when it was started; a recycled pid has another one. */
  startTime: string;
  /** Its log, workspace-relative. */
  logFile: string;
  /** ISO time of the start. */
  startedAt: string;
}

/** The content of `.local/stack.json`. */
export interface StackState {
  version: 1;
  engine: LocalEngine;
  processes: ProcessRecord[];
}

/**
 * Reads the stack state of a workspace.
 * @param dir - the workspace
 * @returns the state, or undefined when nothing was ever started (or everything was stopped)
 * @throws InputError (PC_WORKSPACE_INVALID) when the file exists but is not a stack state
 */
export async function readStackState(dir: string): Promise<StackState | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, STACK_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!isStackState(value)) {
    throw new InputError(ErrorCodes.WORKSPACE_INVALID, `${STACK_FILE} is not a stack state written by up`, {
      hint: `Stop the processes it names by hand if they run, then delete ${STACK_FILE}.`,
    });
  }
  return value;
}

/**
 * Records the stack state (atomically); an empty process list removes the file.
 * @param dir - the workspace
 * @param state - what runs now
 */
export async function writeStackState(dir: string, state: StackState): Promise<void> {
  const target = join(dir, STACK_FILE);
  if (state.processes.length === 0) {
    await rm(target, { force: true });
    return;
  }
  await ensureLocalDir(dir);
  await writeJsonAtomically(target, state);
}

/**
 * Creates `.local` (0700: it holds the JWT secret) when missing.
 * @param dir - the workspace
 * @returns its absolute path
 */
export async function ensureLocalDir(dir: string): Promise<string> {
  const path = join(dir, LOCAL_DIR);
  await mkdir(path, { recursive: true, mode: 0o700 });
  return path;
}

function isStackState(value: unknown): value is StackState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Partial<StackState>;
  return (
    state.version === 1 &&
    (state.engine === 'anvil' || state.engine === 'besu') &&
    Array.isArray(state.processes) &&
    state.processes.every(
      (record) =>
        typeof record === 'object' &&
        record !== null &&
        typeof record.name === 'string' &&
        (record.role === 'chain' || record.role === 'adapter') &&
        Number.isInteger(record.pid) &&
        record.pid > 0 &&
        typeof record.startTime === 'string' &&
        typeof record.logFile === 'string' &&
        typeof record.startedAt === 'string',
    )
  );
}
