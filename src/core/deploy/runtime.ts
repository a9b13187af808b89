import { posix } from 'node:path';
import type { DockerEngine } from '../../io/docker.js';
import { shellQuote } from '../../io/exec.js';
import type { DeployMachine } from './machines.js';
import { FOLDER_HASH_FILE, type FolderTarget, type RuntimeTarget } from './targets.js';

/** What a step did on its machine. */
export type StepOutcome = 'changed' | 'unchanged';

/** How a process runs right now, as its runtime reports it. */
export interface RuntimeStatus {
  /** Docker's status (running, exited, …), systemd's ActiveState (active, failed, …), or `missing`. */
  state: string;
  running: boolean;
}

/** The machine and, for the docker runtime, its engine. */
export interface RuntimeAccess {
  machine: DeployMachine;
  docker: () => Promise<DockerEngine>;
  signal?: AbortSignal;
}

const LOG_LINES = 20;

/**
 * Makes the folder on the machine hold exactly the target's files, unless its marker already
 * names the same folder hash. Before replacing, the process is stopped (its data moves over to
 * the new folder), the replaced folder is kept as `<dir>.previous` for a rollback, and the
 * folder is given to the process's user.
 * @param access - machine and engine
 * @param target - the folder and its runtime
 * @returns whether anything was written
 */
export async function ensureFolder(access: RuntimeAccess, target: FolderTarget): Promise<StepOutcome> {
  const { machine, signal } = access;
  const options = signal ? { signal } : {};
  const marker = posix.join(target.dir, FOLDER_HASH_FILE);
  const current = (await machine.exists(marker, options))
    ? (await machine.readFile(marker, options)).toString('utf8').trim()
    : undefined;
  if (current === target.folderHash) return 'unchanged';
  await stopRuntime(access, target.runtime);
  const uploaded = await machine.uploadDirectoryAtomically(target.files, target.dir, options);
  const moves = uploaded.previous
    ? target.carried.map((name) => {
        const from = shellQuote(posix.join(uploaded.previous!, name));
        const to = shellQuote(posix.join(target.dir, name));
        return `if [ -e ${from} ] && [ ! -e ${to} ]; then mv -- ${from} ${to}; fi`;
      })
    : [];
  const chown = target.owner ? [`chown -R ${shellQuote(target.owner)} ${shellQuote(target.dir)}`] : [];
  if (moves.length + chown.length > 0) {
    await machine.exec([...moves, ...chown].join(' && '), { ...options, timeoutMs: 120_000 });
  }
  return 'changed';
}

/**
 * Writes a small file (mode kept) unless the machine already holds exactly these bytes.
 * @returns whether it was written
 */
export async function ensureFile(
  access: RuntimeAccess,
  path: string,
  content: string,
  mode: number,
): Promise<StepOutcome> {
  const { machine, signal } = access;
  const options = signal ? { signal } : {};
  if (
    (await machine.exists(path, options)) &&
    (await machine.readFile(path, options)).toString('utf8') === content
  ) {
    return 'unchanged';
  }
  await machine.upload(new Map([[path, { content, mode }]]), options);
  return 'changed';
}

/**
 * Makes the runtime run the target: creates or replaces the container when its spec changed
 * (never pulling the image), or installs the unit when it changed (daemon-reload, enable,
 * restart); otherwise starts it only if it is not running, or restarts it when `restart`.
 * @param access - machine and engine
 * @param runtime - the container or unit
 * @param restart - something it reads changed outside its definition (its secrets)
 * @returns whether anything was changed
 * @throws RefusedError (PC_IMAGE_MISSING) when the image is not on the machine
 */
export async function ensureRuntime(
  access: RuntimeAccess,
  runtime: RuntimeTarget,
  restart = false,
): Promise<StepOutcome> {
  const options = access.signal ? { signal: access.signal } : {};
  if (runtime.kind === 'docker') {
    const docker = await access.docker();
    const { action } = await docker.ensureContainer(runtime.container, options);
    const state = await docker.containerState(runtime.container.name, options);
    if (action === 'unchanged' && state.exists && state.running && !restart) return 'unchanged';
    if (restart && state.exists && state.running) await docker.stopContainer(runtime.container.name, options);
    await docker.startContainer(runtime.container.name, options);
    return 'changed';
  }
  const { machine } = access;
  const unit = shellQuote(runtime.unitName);
  const installed = await ensureFile(access, runtime.unitPath, runtime.unitContent, 0o644);
  if (installed === 'changed') {
    await machine.exec(
      `systemctl daemon-reload && systemctl enable ${unit} && systemctl restart ${unit}`,
      options,
    );
    return 'changed';
  }
  const active = await machine.exec(`systemctl is-active --quiet ${unit}`, {
    ...options,
    allowedExitCodes: [0, 1, 2, 3, 4],
  });
  if (active.code === 0 && !restart) return 'unchanged';
  await machine.exec(`systemctl enable ${unit} && systemctl restart ${unit}`, options);
  return 'changed';
}

/**
 * Whether the process runs now exactly as the target defines it: the container from this spec
 * and image, or this unit file, active. Nothing is changed.
 * @param access - machine and engine
 * @param runtime - the container or unit
 */
export async function runtimeIsCurrent(access: RuntimeAccess, runtime: RuntimeTarget): Promise<boolean> {
  const options = access.signal ? { signal: access.signal } : {};
  if (runtime.kind === 'docker') {
    return (await access.docker()).containerMatches(runtime.container, options);
  }
  const { machine } = access;
  if (!(await machine.exists(runtime.unitPath, options))) return false;
  if ((await machine.readFile(runtime.unitPath, options)).toString('utf8') !== runtime.unitContent)
    return false;
  const active = await machine.exec(`systemctl is-active --quiet ${shellQuote(runtime.unitName)}`, {
    ...options,
    allowedExitCodes: [0, 1, 2, 3, 4],
  });
  return active.code === 0;
}

/**
 * Asks the running process to reload (SIGHUP): `systemctl reload` for a unit (its ExecReload sends
 * the signal), `docker kill --signal SIGHUP` for a container. The adapter reloads its signer.
 * @param access - machine and engine
 * @param runtime - the container or unit
 * @throws RemoteError when it is not running
 */
export async function reloadRuntime(access: RuntimeAccess, runtime: RuntimeTarget): Promise<void> {
  const options = access.signal ? { signal: access.signal } : {};
  if (runtime.kind === 'docker') {
    await (await access.docker()).signalContainer(runtime.container.name, 'SIGHUP', options);
    return;
  }
  await access.machine.exec(`systemctl reload ${shellQuote(runtime.unitName)}`, options);
}

/**
 * Stops the process if it exists (a missing container or unit is fine).
 * @param access - machine and engine
 * @param runtime - the container or unit
 */
export async function stopRuntime(access: RuntimeAccess, runtime: RuntimeTarget): Promise<void> {
  const options = access.signal ? { signal: access.signal } : {};
  if (runtime.kind === 'docker') {
    await (await access.docker()).stopContainer(runtime.container.name, options);
    return;
  }
  if (await access.machine.exists(runtime.unitPath, options)) {
    // Exit 5: the unit is not loaded (installed but never reloaded): nothing runs.
    await access.machine.exec(`systemctl stop ${shellQuote(runtime.unitName)}`, {
      ...options,
      allowedExitCodes: [0, 5],
    });
  }
}

/**
 * How the process runs now.
 * @param access - machine and engine
 * @param runtime - the container or unit
 */
export async function runtimeStatus(access: RuntimeAccess, runtime: RuntimeTarget): Promise<RuntimeStatus> {
  const options = access.signal ? { signal: access.signal } : {};
  if (runtime.kind === 'docker') {
    const state = await (await access.docker()).containerState(runtime.container.name, options);
    return state.exists
      ? { state: state.status, running: state.running }
      : { state: 'missing', running: false };
  }
  if (!(await access.machine.exists(runtime.unitPath, options))) return { state: 'missing', running: false };
  const { stdout } = await access.machine.exec(`systemctl is-active ${shellQuote(runtime.unitName)}`, {
    ...options,
    allowedExitCodes: [0, 1, 2, 3, 4],
  });
  const state = stdout.trim() || 'unknown';
  return { state, running: state === 'active' };
}

/**
 * The last lines the process logged (docker logs, or journalctl for the unit), for error reports.
 * A failure to read them is reported as the one line, never thrown over the original problem.
 * @param access - machine and engine
 * @param runtime - the container or unit
 */
export async function lastLogLines(access: RuntimeAccess, runtime: RuntimeTarget): Promise<string[]> {
  try {
    if (runtime.kind === 'docker') {
      return await (
        await access.docker()
      ).lastLogLines(runtime.container.name, LOG_LINES, { timeoutMs: 15_000 });
    }
    const { stdout } = await access.machine.exec(
      `journalctl -u ${shellQuote(runtime.unitName)} -n ${LOG_LINES} --no-pager -o cat`,
      { timeoutMs: 15_000 },
    );
    return stdout.split('\n').filter((line) => line !== '');
  } catch (error) {
    return [`(no log lines: ${error instanceof Error ? error.message : String(error)})`];
  }
}
