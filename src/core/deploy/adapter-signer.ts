import { posix } from 'node:path';
import { shellQuote } from '../../io/exec.js';
import { ErrorCodes, RemoteError } from '../errors.js';
import { waitForAdapterHealth } from './health.js';
import {
  ensureFolder,
  ensureRuntime,
  lastLogLines,
  reloadRuntime,
  runtimeIsCurrent,
  type RuntimeAccess,
  type StepOutcome,
} from './runtime.js';
import { FOLDER_HASH_FILE, machineName, type AdapterTarget } from './targets.js';

/**
 * Puts the adapter's folder in place. While the adapter runs exactly as its target defines it,
 * the runtime carries the hash of everything it reads at start, so the folder can differ only in
 * the signer: then the changed files are written in place, one by one and each atomically, the
 * configuration and the marker last, and the folder as it was is copied to `<dir>.previous`. The
 * process and its database stay where they are, and {@link ensureAdapterSigner} has it reload.
 * Otherwise the folder is swapped as every folder is (the process stopped first).
 * @param access - the service machine
 * @param target - the adapter's deploy target
 * @returns whether anything was written
 */
export async function ensureAdapterFolder(
  access: RuntimeAccess,
  target: AdapterTarget,
): Promise<StepOutcome> {
  const { machine } = access;
  const options = access.signal ? { signal: access.signal } : {};
  const marker = posix.join(target.dir, FOLDER_HASH_FILE);
  const current = (await machine.exists(marker, options))
    ? (await machine.readFile(marker, options)).toString('utf8').trim()
    : undefined;
  if (current === target.folderHash) return 'unchanged';
  if (current === undefined || !(await runtimeIsCurrent(access, target.runtime))) {
    return ensureFolder(access, target);
  }
  const changed: string[] = [];
  for (const [name, file] of target.files) {
    const path = posix.join(target.dir, name);
    const held = (await machine.exists(path, options)) ? await machine.readFile(path, options) : undefined;
    if (!held?.equals(file.content)) changed.push(name);
  }
  // The configuration names the keystore, and the marker says the folder is complete: both last.
  const order = (name: string) => (name === FOLDER_HASH_FILE ? 2 : name === 'adapter.yaml' ? 1 : 0);
  changed.sort((a, b) => order(a) - order(b));
  const previous = `${target.dir}.previous`;
  const keep = [...target.files.keys()]
    .map((name) => posix.join(target.dir, name))
    .map(
      (path) =>
        `if [ -e ${shellQuote(path)} ]; then cp -p -- ${shellQuote(path)} ${shellQuote(previous)}/; fi`,
    );
  await machine.exec(
    [`rm -rf -- ${shellQuote(previous)}`, `mkdir -p -- ${shellQuote(previous)}`, ...keep].join(' && '),
    { ...options, timeoutMs: 60_000 },
  );
  // One upload: it writes the files in this order, each atomically.
  await machine.upload(
    new Map(changed.map((name) => [posix.join(target.dir, name), target.files.get(name)!])),
    options,
  );
  if (target.owner) {
    await machine.exec(`chown -R ${shellQuote(target.owner)} ${shellQuote(target.dir)}`, {
      ...options,
      timeoutMs: 120_000,
    });
  }
  return 'changed';
}

/** How the running adapter came to sign with the configured key. */
export type SignerSwitch = 'unchanged' | 'reloaded' | 'restarted';

/** Options of {@link ensureAdapterSigner}. */
export interface AdapterSignerOptions {
  /** How long the reload (or the restart of an adapter that cannot reload) may take. */
  timeoutMs: number;
  pollMs: number;
  signal?: AbortSignal;
}

/** What the adapter's /metrics says about its signer. */
interface SignerReading {
  /** The address signing now; undefined when the adapter does not report it (a version without reload). */
  address: string | undefined;
  /** Reloads that failed since it started. */
  failedReloads: number;
}

/**
 * Makes the running adapter sign with the key its configuration names, without a restart: when
 * /metrics shows another signer, the process gets SIGHUP (`systemctl reload`, or the container's
 * signal) and this waits until it reports the new one. Intake goes on meanwhile. An adapter that
 * does not report its signer (an older version) is restarted instead.
 * @param access - the service machine
 * @param target - the adapter's deploy target (its configured signer)
 * @param options - limits
 * @returns what it took
 * @throws RemoteError (PC_NODE_UNHEALTHY) with the adapter's last log lines when the adapter
 *   refuses the new keystore or does not take it in time
 */
export async function ensureAdapterSigner(
  access: RuntimeAccess,
  target: AdapterTarget,
  options: AdapterSignerOptions,
): Promise<SignerSwitch> {
  const forward = await access.machine.forwardTcp(target.http.host, target.http.port);
  try {
    const read = () => readSigner(forward.url);
    const before = await read().catch((error: unknown) => {
      throw new RemoteError(
        ErrorCodes.NODE_UNHEALTHY,
        `Cannot read the adapter's signer from GET /metrics: ${error instanceof Error ? error.message : String(error)}`,
        {
          host: machineName(target.machine),
          command: 'GET /metrics',
          hint: 'Check that the adapter runs (`peruri-chain status`) and re-run.',
        },
      );
    });
    if (before.address === target.signerAddress) return 'unchanged';
    if (before.address === undefined) {
      await ensureRuntime(access, target.runtime, true);
      await waitForAdapterHealth(access, target, {
        ...options,
        message: (reason) => `The adapter does not answer after its restart: ${reason}`,
        hint: 'Look at its last log lines below; re-running resumes here.',
      });
      return 'restarted';
    }
    await reloadRuntime(access, target.runtime);
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      await new Promise((done) => setTimeout(done, options.pollMs));
      const now = await read().catch(() => before);
      if (now.address === target.signerAddress) return 'reloaded';
      const refused = now.failedReloads > before.failedReloads;
      if (refused || options.signal?.aborted || Date.now() > deadline) {
        throw new RemoteError(
          ErrorCodes.NODE_UNHEALTHY,
          refused
            ? `The adapter refused the signer ${target.signerAddress} on reload and keeps signing with ${now.address}`
            : `The adapter still signs with ${now.address}, not ${target.signerAddress}, ${Math.round(options.timeoutMs / 1000)} s after the reload`,
          {
            host: machineName(target.machine),
            command: target.runtime.kind === 'docker' ? 'docker kill --signal SIGHUP' : 'systemctl reload',
            hint: 'The adapter keeps running on its old key, which keeps its roles; look at the log lines below (keystore file, password, address in adapter.yaml) and re-run.',
            details: [
              'last log lines of the adapter:',
              ...(await lastLogLines(access, target.runtime)).map((line) => `  ${line}`),
            ],
          },
        );
      }
    }
  } finally {
    await forward.close();
  }
}

/**
 * The signer an adapter reports in its /metrics text (`peruri_adapter_signer_info`).
 * @param metrics - the Prometheus text
 * @returns the lowercase address, or undefined when the adapter does not report one
 */
export function reportedSigner(metrics: string): string | undefined {
  return /^peruri_adapter_signer_info\{address="(0x[0-9a-f]{40})"\} 1$/m.exec(metrics)?.[1];
}

async function readSigner(url: string): Promise<SignerReading> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const text = await response.text();
  const address = reportedSigner(text);
  const failed = /^peruri_adapter_signer_reloads_total\{outcome="failed"\} (\d+)$/m.exec(text)?.[1];
  return { address, failedReloads: failed ? Number(failed) : 0 };
}
