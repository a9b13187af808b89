import { createHash } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import { ErrorCodes, InterruptedError, PeruriError, RefusedError, RemoteError } from '../core/errors.js';
import type { RemoteOperationOptions, UnixSocketDialer } from './ssh.js';

/**
 * Where a machine's Docker engine listens: a unix socket on this machine (tests, local runs), or a
 * unix socket on a machine reached over SSH (forwarded through the SSH connection itself, so no
 * Docker port is ever exposed and the host key checks of the SSH layer apply).
 */
export type DockerEndpoint =
  { socketPath: string; host?: string } | { through: UnixSocketDialer; socketPath?: string };

/** Options of {@link DockerEngine.stopContainer}. */
export interface StopContainerOptions extends RemoteOperationOptions {
  /** Seconds Docker waits after SIGTERM before SIGKILL (default: the container's own setting). */
  graceSeconds?: number;
}

/** What a container should be; {@link DockerEngine.ensureContainer} makes it so. */
export interface ContainerSpec {
  name: string;
  /** An image reference that must already be on the machine (it is never pulled). */
  image: string;
  cmd?: string[];
  entrypoint?: string[];
  /** `hostPath:containerPath[:ro]`. */
  binds?: string[];
  networkMode: 'host' | 'none';
  restartPolicy: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  /** Bytes of memory; no limit when absent. */
  memoryLimit?: number;
  /** CPU limit in billionths of a CPU (1.5 CPUs = 1_500_000_000); no limit when absent. */
  nanoCpus?: number;
  env?: Record<string, string>;
  /** `uid[:gid]` or a user name known to the image. */
  user?: string;
  labels?: Record<string, string>;
  /** Seconds between SIGTERM and SIGKILL when the container is stopped (Docker's default is 10). */
  stopTimeoutSeconds?: number;
  /** json-file log rotation (default 50m × 5 files, so logs never fill the disk). */
  logRotation?: { maxSize: string; maxFiles: number };
}

/** What {@link DockerEngine.ensureContainer} did. */
export interface EnsureContainerResult {
  id: string;
  /** `unchanged` when a container with the same configuration and image already existed. */
  action: 'created' | 'replaced' | 'unchanged';
}

/** A container as Docker reports it, or its absence. */
export type ContainerState =
  | { exists: false }
  | {
      exists: true;
      id: string;
      /** Docker's status: created, running, paused, restarting, removing, exited or dead. */
      status: string;
      running: boolean;
      exitCode: number;
      restartCount: number;
      oomKilled: boolean;
      startedAt: string;
      finishedAt: string;
      /** The image ID the container runs. */
      imageId: string;
      /** The configuration hash label set by ensureContainer, if it made the container. */
      configHash: string | undefined;
    };

/** The label that records the configuration a container was created from. */
export const CONFIG_HASH_LABEL = 'io.peruri-chain.config-hash';
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * Connects to a machine's Docker engine (no request is made until the first call).
 * @param endpoint - a local unix socket, or a socket on a machine reached over SSH
 * @returns the engine; call `close()` when done
 * @example
 * const machine = await connectSsh({ ... });
 * const docker = connectDocker({ through: machine });
 * await docker.requireImage('hyperledger/besu:25.4.1');
 */
export function connectDocker(endpoint: DockerEndpoint): DockerEngine {
  return new DockerEngine(endpoint);
}

/** The operations the deploy, status and rotate-key steps need from a Docker engine. */
export class DockerEngine {
  readonly host: string;
  private readonly socketPath: string;
  private readonly agent: Agent;
  private readonly docker: Docker;

  /** Use {@link connectDocker}. */
  constructor(endpoint: DockerEndpoint) {
    this.socketPath = endpoint.socketPath ?? DEFAULT_SOCKET;
    if ('through' in endpoint) {
      this.host = endpoint.through.host;
      this.agent = new TunnelAgent(endpoint.through, this.socketPath);
      // docker-modem fills unset options from DOCKER_HOST and DOCKER_CERT_PATH: they are set
      // explicitly so that the environment cannot send requests elsewhere.
      const options = {
        protocol: 'http' as const,
        host: 'docker.invalid',
        port: 80,
        agent: this.agent,
        ca: undefined,
        cert: undefined,
        key: undefined,
      };
      this.docker = new Docker(options);
    } else {
      this.host = endpoint.host ?? 'localhost';
      this.agent = new Agent({ keepAlive: false });
      const options = { socketPath: this.socketPath, host: undefined, agent: this.agent };
      this.docker = new Docker(options);
    }
  }

  /**
   * Checks that the engine answers.
   * @throws RemoteError when it does not
   */
  async ping(options: RemoteOperationOptions = {}): Promise<void> {
    // @types/dockerode lacks ping's options; dockerode passes abortSignal on (lib/docker.js).
    const docker = this.docker as unknown as {
      ping(options: { abortSignal: AbortSignal }): Promise<unknown>;
    };
    await this.call('docker ping', options, (abortSignal) => docker.ping({ abortSignal }));
  }

  /**
   * Whether an image is on the machine; never pulls.
   * @param ref - an image reference (`name:tag`, `name@sha256:…` or an image ID)
   * @returns true when the engine has it
   */
  async imageExists(ref: string, options: RemoteOperationOptions = {}): Promise<boolean> {
    return (await this.imageId(ref, options)) !== undefined;
  }

  /**
   * Makes sure an image is on the machine; never pulls it from anywhere.
   * @param ref - the image reference pinned in the spec
   * @returns the image ID
   * @throws RefusedError (PC_IMAGE_MISSING) with a hint to load the image onto the machine
   */
  async requireImage(ref: string, options: RemoteOperationOptions = {}): Promise<string> {
    const id = await this.imageId(ref, options);
    if (id !== undefined) return id;
    throw new RefusedError(
      ErrorCodes.IMAGE_MISSING,
      `${this.host}: the image ${ref} is not on this machine`,
      {
        hint:
          `Images are never pulled. Load it onto the machine, e.g. \`docker save ${ref} | ssh <machine> docker load\`, ` +
          'or import it from a tarball there with `docker load -i FILE`.',
        details: [`host: ${this.host}`, `image: ${ref}`],
      },
    );
  }

  /**
   * Whether a container runs from this spec and the image the reference names now (what
   * {@link ensureContainer} would leave alone). A missing image means it does not.
   */
  async containerMatches(spec: ContainerSpec, options: RemoteOperationOptions = {}): Promise<boolean> {
    const imageId = await this.imageId(spec.image, options);
    if (imageId === undefined) return false;
    const current = await this.containerState(spec.name, options);
    return (
      current.exists &&
      current.running &&
      current.configHash === configHash(spec, imageId) &&
      current.imageId === imageId
    );
  }

  /**
   * Creates the container if it is missing, leaves it alone if it matches the spec and the image
   * it runs is still the one the reference names, and replaces it (stop, remove, create) otherwise.
   * The container is not started: call {@link startContainer}.
   * @param spec - what the container should be
   * @returns its ID and what was done
   * @throws RefusedError when the image is missing; RemoteError when Docker fails
   */
  async ensureContainer(
    spec: ContainerSpec,
    options: RemoteOperationOptions = {},
  ): Promise<EnsureContainerResult> {
    const imageId = await this.requireImage(spec.image, options);
    const hash = configHash(spec, imageId);
    const current = await this.containerState(spec.name, options);
    if (current.exists && current.configHash === hash && current.imageId === imageId) {
      return { id: current.id, action: 'unchanged' };
    }
    if (current.exists) await this.removeContainer(spec.name, options);
    const created = await this.call(`docker create ${spec.name}`, options, (abortSignal) =>
      this.docker.createContainer({ ...createOptions(spec, hash), abortSignal }),
    );
    return { id: created.id, action: current.exists ? 'replaced' : 'created' };
  }

  /** Starts a container; one that is already running is left as it is. */
  async startContainer(name: string, options: RemoteOperationOptions = {}): Promise<void> {
    await this.callOrAbsent(
      `docker start ${name}`,
      options,
      (abortSignal) => this.docker.getContainer(name).start({ abortSignal }),
      // 304: already running.
      [304],
    );
  }

  /** Stops a container (SIGTERM, then SIGKILL after the grace period); a stopped or missing one is fine. */
  async stopContainer(name: string, options: StopContainerOptions = {}): Promise<void> {
    await this.callOrAbsent(
      `docker stop ${name}`,
      options,
      (abortSignal) =>
        this.docker
          .getContainer(name)
          .stop(
            options.graceSeconds === undefined ? { abortSignal } : { t: options.graceSeconds, abortSignal },
          ),
      // 304: already stopped; 404: no such container.
      [304, 404],
    );
  }

  /**
   * Sends a signal to a running container's main process (`docker kill --signal`).
   * @throws RemoteError when the container is missing or not running (409)
   */
  async signalContainer(name: string, signal: string, options: RemoteOperationOptions = {}): Promise<void> {
    await this.call(`docker kill --signal ${signal} ${name}`, options, (abortSignal) =>
      this.docker.getContainer(name).kill({ signal, abortSignal }),
    );
  }

  /** Removes a container, stopping it first if it runs (SIGKILL); a missing one is fine. */
  async removeContainer(name: string, options: RemoteOperationOptions = {}): Promise<void> {
    await this.callOrAbsent(
      `docker rm -f ${name}`,
      options,
      (abortSignal) => this.docker.getContainer(name).remove({ force: true, abortSignal }),
      [404],
    );
  }

  /**
   * The state of a container by name.
   * @returns its state, or `{ exists: false }`
   */
  async containerState(name: string, options: RemoteOperationOptions = {}): Promise<ContainerState> {
    const info = await this.callOrAbsent(
      `docker inspect ${name}`,
      options,
      (abortSignal) => this.docker.getContainer(name).inspect({ abortSignal }),
      [404],
    );
    if (info === undefined) return { exists: false };
    return {
      exists: true,
      id: info.Id,
      status: info.State.Status,
      running: info.State.Running,
      exitCode: info.State.ExitCode,
      restartCount: info.RestartCount,
      oomKilled: info.State.OOMKilled,
      startedAt: info.State.StartedAt,
      finishedAt: info.State.FinishedAt,
      imageId: info.Image,
      configHash: info.Config.Labels?.[CONFIG_HASH_LABEL],
    };
  }

  /**
   * The last lines a container printed on stdout and stderr, in the order Docker recorded them.
   * Docker copies the two streams separately, so lines written on both within the same instant
   * may appear in either order, and the very last output may arrive just after the exit.
   * @param name - the container
   * @param count - how many lines at most
   * @returns the lines, oldest first, without line ends
   */
  async lastLogLines(name: string, count: number, options: RemoteOperationOptions = {}): Promise<string[]> {
    const raw = await this.call(`docker logs --tail ${count} ${name}`, options, (abortSignal) =>
      this.docker
        .getContainer(name)
        .logs({ stdout: true, stderr: true, tail: count, follow: false, abortSignal }),
    );
    const text = demultiplex(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)));
    return text
      .split(/\r?\n/)
      .filter((line, index, lines) => line !== '' || index < lines.length - 1)
      .slice(-count);
  }

  /** Lets go of the connections; the SSH connection itself stays open. */
  close(): void {
    this.agent.destroy();
  }

  private async imageId(ref: string, options: RemoteOperationOptions): Promise<string | undefined> {
    const info = await this.callOrAbsent(
      `docker image inspect ${ref}`,
      options,
      () => this.docker.getImage(ref).inspect(),
      [404],
    );
    return info?.Id;
  }

  // Runs one Docker API call with the abort signal and the time limit, mapping failures to the
  // error hierarchy.
  private async call<T>(
    command: string,
    options: RemoteOperationOptions,
    request: (abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    // Sound: with no absent statuses, undefined comes only from the request itself.
    return (await this.callOrAbsent(command, options, request, [])) as T;
  }

  // As call(), but the given Docker statuses ("no such thing", "already so") resolve to undefined.
  private async callOrAbsent<T>(
    command: string,
    options: RemoteOperationOptions,
    request: (abortSignal: AbortSignal) => Promise<T>,
    absentStatuses: number[],
  ): Promise<T | undefined> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (options.signal?.aborted) throw new InterruptedError(`Interrupted before: ${command} on ${this.host}`);
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    // Not every dockerode method forwards the signal (image inspect does not): the race bounds them all.
    const stopped = new Promise<never>((_, reject) => {
      const onAbort = (): void => reject(combined.reason);
      if (combined.aborted) onAbort();
      else combined.addEventListener('abort', onAbort, { once: true });
    });
    stopped.catch(() => undefined);
    try {
      return await Promise.race([request(combined), stopped]);
    } catch (error) {
      if (options.signal?.aborted) throw new InterruptedError(`Interrupted: ${command} on ${this.host}`);
      if (timeout.aborted) {
        throw this.failure(
          command,
          `no answer within ${timeoutMs} ms`,
          'Check the Docker engine on the machine.',
        );
      }
      if (error instanceof PeruriError) throw error;
      const status = (error as { statusCode?: unknown }).statusCode;
      if (typeof status === 'number' && absentStatuses.includes(status)) return undefined;
      throw this.dockerFailure(command, error);
    }
  }

  private dockerFailure(command: string, error: unknown): RemoteError {
    const status = (error as { statusCode?: unknown }).statusCode;
    const code = (error as { code?: unknown }).code;
    const json = (error as { json?: { message?: unknown } }).json;
    const message = typeof json?.message === 'string' ? json.message : describe(error);
    if (code === 'ECONNREFUSED' || code === 'ENOENT') {
      return this.failure(
        command,
        `the Docker engine does not answer at ${this.socketPath}`,
        'Is dockerd running?',
      );
    }
    if (code === 'EACCES') {
      return this.failure(
        command,
        `no permission to use ${this.socketPath}`,
        'Add the user to the docker group.',
      );
    }
    const reason = typeof status === 'number' ? `Docker answered ${status}: ${message.trim()}` : message;
    return this.failure(command, reason, 'See the Docker engine log on the machine.');
  }

  private failure(command: string, reason: string, hint: string): RemoteError {
    return new RemoteError(ErrorCodes.REMOTE_FAILED, `${this.host}: ${command}: ${reason}`, {
      host: this.host,
      command,
      hint,
    });
  }
}

/**
 * The configuration hash a container is labelled with: the spec (keys sorted, so the order of
 * environment variables or labels does not matter) and the image ID the reference resolved to.
 * @param spec - the container spec
 * @param imageId - the image ID
 * @returns a hex SHA-256
 */
export function configHash(spec: ContainerSpec, imageId: string): string {
  return createHash('sha256').update(canonicalJson({ spec, imageId })).digest('hex');
}

// An http.Agent whose connections are streams to the Docker socket, forwarded over SSH.
class TunnelAgent extends Agent {
  constructor(
    private readonly dialer: UnixSocketDialer,
    private readonly socketPath: string,
    options: AgentOptions = { keepAlive: false },
  ) {
    super(options);
  }

  override createConnection(
    _options: unknown,
    callback: (error: Error | null, socket?: Duplex) => void,
  ): undefined {
    this.dialer.openUnixSocket(this.socketPath, { timeoutMs: 30_000 }).then(
      (stream) => callback(null, withSocketMethods(stream)),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
    return undefined;
  }
}

// Node's HTTP client calls a few net.Socket methods that an SSH channel does not have.
function withSocketMethods(stream: Duplex): Duplex {
  const socket = stream as Duplex & Record<string, unknown>;
  for (const method of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref']) {
    if (typeof socket[method] !== 'function') socket[method] = () => socket;
  }
  return socket;
}

function createOptions(spec: ContainerSpec, hash: string): Docker.ContainerCreateOptions {
  const rotation = spec.logRotation ?? { maxSize: '50m', maxFiles: 5 };
  return {
    name: spec.name,
    Image: spec.image,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    ...(spec.user !== undefined ? { User: spec.user } : {}),
    ...(spec.stopTimeoutSeconds !== undefined ? { StopTimeout: spec.stopTimeoutSeconds } : {}),
    Env: Object.entries(spec.env ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => `${key}=${value}`),
    Labels: { ...spec.labels, [CONFIG_HASH_LABEL]: hash },
    HostConfig: {
      NetworkMode: spec.networkMode,
      Binds: spec.binds ?? [],
      RestartPolicy: { Name: spec.restartPolicy === 'no' ? '' : spec.restartPolicy },
      ...(spec.memoryLimit !== undefined ? { Memory: spec.memoryLimit } : {}),
      ...(spec.nanoCpus !== undefined ? { NanoCpus: spec.nanoCpus } : {}),
      LogConfig: {
        Type: 'json-file',
        Config: { 'max-size': rotation.maxSize, 'max-file': String(rotation.maxFiles) },
      },
    },
  };
}

// Without a TTY, Docker frames log output: one byte stream type (1 stdout, 2 stderr), three zero
// bytes, a 32-bit big-endian length, then the payload (Docker Engine API, "Attach to a container").
function demultiplex(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const type = raw[offset]!;
    const length = raw.readUInt32BE(offset + 4);
    if (type > 2 || raw[offset + 1] !== 0 || offset + 8 + length > raw.length) break;
    parts.push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  if (offset !== raw.length) return raw.toString('utf8');
  return Buffer.concat(parts).toString('utf8');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
