import { join } from 'node:path';
import type { DockerEngine } from '../../io/docker.js';
import { BugError } from '../errors.js';
import type { RemoteMachine, SshAuth, TcpForwarder, UnixSocketDialer } from '../../io/ssh.js';
import { KNOWN_HOSTS_FILE } from '../workspace/layout.js';
import { machineName, type MachineAddress } from './targets.js';

/** What deploy and status need from a machine: commands, files, forwarded ports, the Docker socket. */
export interface DeployMachine extends RemoteMachine, TcpForwarder, UnixSocketDialer {}

/** Opens a connection to a machine (the SSH implementation checks the host key first). */
export type MachineConnector = (address: MachineAddress) => Promise<DeployMachine>;

/** Options of {@link sshConnector}. */
export interface SshConnectorOptions {
  auth: SshAuth;
  /** The workspace's known_hosts file. */
  knownHostsFile: string;
  /** Record the key of a machine met for the first time (never accept a changed one). */
  acceptNewHostKey: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * The real connector: SSH with host keys checked against the workspace's record.
 * @param options - login, known-hosts file, first-use acceptance
 */
export function sshConnector(options: SshConnectorOptions): MachineConnector {
  return async (address) => {
    const { connectSsh } = await import('../../io/ssh.js');
    return connectSsh({
      host: address.host,
      port: address.port,
      username: address.user,
      auth: options.auth,
      knownHostsFile: options.knownHostsFile,
      acceptNewHostKey: options.acceptNewHostKey,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
  };
}

/** What a command that reaches the machines takes from its flags. */
export interface MachineAccessOptions {
  /** Replaces SSH (tests). */
  connector?: MachineConnector;
  /** Checked by the command before it gets here (it says how to give a key). */
  auth: SshAuth | undefined;
  acceptNewHostKey: boolean;
  signal?: AbortSignal;
}

/**
 * The connector a workspace command uses: the one given (tests), else SSH checked against the
 * workspace's known_hosts.
 * @param dir - the workspace
 * @param options - the command's access options
 * @param timeoutMs - connection timeout, when the command wants its own
 */
export function workspaceConnector(
  dir: string,
  options: MachineAccessOptions,
  timeoutMs?: number,
): MachineConnector {
  if (options.connector) return options.connector;
  if (!options.auth) throw new BugError('An SSH login is needed before the machines are reached');
  return sshConnector({
    auth: options.auth,
    knownHostsFile: join(dir, KNOWN_HOSTS_FILE),
    acceptNewHostKey: options.acceptNewHostKey,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

/**
 * One connection per machine, opened on first use and shared by every step that acts on it
 * (several nodes may share a machine); `closeAll` ends them all, forwarded ports included.
 */
export class MachinePool {
  private readonly connections = new Map<string, Promise<DeployMachine>>();
  private readonly engines = new Map<string, DockerEngine>();

  /**
   * @param connector - opens connections
   * @param dockerSocket - the Docker engine's socket on the machines (default /var/run/docker.sock)
   */
  constructor(
    private readonly connector: MachineConnector,
    private readonly dockerSocket?: string,
  ) {}

  /** The machine, connecting on first use; a failed connection is tried again on the next call. */
  get(address: MachineAddress): Promise<DeployMachine> {
    const key = `${address.user}@${machineName(address)}`;
    let connection = this.connections.get(key);
    if (!connection) {
      connection = this.connector(address);
      this.connections.set(key, connection);
      connection.catch(() => this.connections.delete(key));
    }
    return connection;
  }

  /** The machine's Docker engine, reached through its SSH connection (the socket is forwarded). */
  async docker(address: MachineAddress): Promise<DockerEngine> {
    const key = `${address.user}@${machineName(address)}`;
    const existing = this.engines.get(key);
    if (existing) return existing;
    const machine = await this.get(address);
    const { connectDocker } = await import('../../io/docker.js');
    const engine = connectDocker(
      this.dockerSocket ? { through: machine, socketPath: this.dockerSocket } : { through: machine },
    );
    this.engines.set(key, engine);
    return engine;
  }

  /** Ends every connection; errors while closing are ignored (the work is done or failed already). */
  async closeAll(): Promise<void> {
    for (const engine of this.engines.values()) engine.close();
    this.engines.clear();
    const connections = [...this.connections.values()];
    this.connections.clear();
    await Promise.all(
      connections.map((connection) =>
        connection.then(
          (machine) => machine.close(),
          () => undefined,
        ),
      ),
    );
  }
}
