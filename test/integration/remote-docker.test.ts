import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import { ErrorCodes, InterruptedError, RefusedError, RemoteError } from '../../src/core/errors.js';
import {
  CONFIG_HASH_LABEL,
  connectDocker,
  type ContainerSpec,
  type ContainerState,
  type DockerEngine,
  type DockerEndpoint,
} from '../../src/io/docker.js';
import { recordHostKey } from '../../src/io/known-hosts.js';
import { connectSsh, type SshMachine } from '../../src/io/ssh.js';
import {
  describeWithDockerd,
  importTestImage,
  startDockerd,
  TEST_IMAGE,
  type Dockerd,
} from '../support/dockerd.js';
import { aRunningSshd, sshdUnavailable } from '../support/sshd.js';
import { aTempDir } from '../support/temp-dir.js';

// One engine for this file (starting dockerd and importing the image takes about 2 s); every test
// makes its own uniquely named containers and removes them when it finishes.
let dockerd: Dockerd | undefined;

function engineSocket(): string {
  if (!dockerd) throw new Error('dockerd did not start (see beforeAll)');
  return dockerd.socketPath;
}

function anEngine(endpoint: DockerEndpoint = { socketPath: engineSocket() }): DockerEngine {
  const engine = connectDocker(endpoint);
  onTestFinished(() => engine.close());
  return engine;
}

// A container spec with a unique name, running the test image as a long-lived "node".
function aContainerSpec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
  const name = `peruri-test-${randomBytes(4).toString('hex')}`;
  onTestFinished(() => connectDocker({ socketPath: engineSocket() }).removeContainer(name));
  return {
    name,
    image: TEST_IMAGE,
    cmd: ['sh', '-c', 'echo ready; sleep 3600'],
    binds: ['/tmp:/host-tmp:ro'],
    networkMode: 'host',
    restartPolicy: 'unless-stopped',
    memoryLimit: 64 * 1024 * 1024,
    nanoCpus: 500_000_000,
    env: { NODE_NAME: 'validator-1', LOG_LEVEL: 'INFO' },
    user: '1000:1000',
    ...overrides,
  };
}

async function stateWhen(
  engine: DockerEngine,
  name: string,
  predicate: (state: ContainerState) => boolean,
): Promise<ContainerState> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const state = await engine.containerState(name);
    if (predicate(state)) return state;
    if (Date.now() > deadline)
      throw new Error(`${name} never reached the expected state: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function logsWhen(engine: DockerEngine, name: string, count: number, last: string): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = await engine.lastLogLines(name, count);
    if (lines.at(-1) === last || Date.now() > deadline) return lines;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

// A unix socket in front of the engine that records every request line passing through it.
async function aRecordingProxy(target: string): Promise<{ socketPath: string; requests: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'pc-proxy-'));
  const socketPath = join(dir, 'proxy.sock');
  const requests: string[] = [];
  const sockets: Socket[] = [];
  const server = createServer((client) => {
    const upstream = connect(target);
    sockets.push(client, upstream);
    client.on('data', (chunk: Buffer) => {
      for (const match of chunk.toString('latin1').matchAll(/^(GET|POST|PUT|DELETE|HEAD) (\S+) HTTP/gm)) {
        requests.push(`${match[1]} ${match[2]}`);
      }
    });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  onTestFinished(async () => {
    sockets.forEach((socket) => socket.destroy());
    await closeServer(server);
    await rm(dir, { recursive: true, force: true });
  });
  return { socketPath, requests };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describeWithDockerd('Docker engine against a real dockerd', () => {
  beforeAll(async () => {
    dockerd = await startDockerd();
    console.info(`dockerd ready in ${dockerd.startupMs} ms`);
    await importTestImage(dockerd.socketPath);
  }, 90_000);
  afterAll(async () => {
    await dockerd?.stop();
  }, 60_000);

  it('reports a missing image with a hint to load it, without ever asking the engine to pull', async () => {
    // Given an engine reached through a proxy that records every request
    const proxy = await aRecordingProxy(engineSocket());
    const engine = anEngine({ socketPath: proxy.socketPath, host: 'node-1.test' });
    // When an image that is not there is required
    const error = await rejectionOf(engine.requireImage('hyperledger/besu:99.0.0'));
    // Then it is refused with the image, the host and how to load it
    expect(error).toBeInstanceOf(RefusedError);
    const refused = error as RefusedError;
    expect(refused.code).toBe(ErrorCodes.IMAGE_MISSING);
    expect(refused.message).toBe('node-1.test: the image hyperledger/besu:99.0.0 is not on this machine');
    expect(refused.hint).toContain('docker load');
    expect(await engine.imageExists('hyperledger/besu:99.0.0')).toBe(false);
    expect(await engine.imageExists(TEST_IMAGE)).toBe(true);
    // And no pull (POST /images/create) went to the engine, only inspections
    expect(proxy.requests.length).toBeGreaterThanOrEqual(3);
    expect(proxy.requests.filter((line) => !line.startsWith('GET /images/'))).toEqual([]);
  });

  it('creates a container with the spec, and a second identical call changes nothing', async () => {
    // Given an engine and a container spec
    const engine = anEngine();
    const spec = aContainerSpec();
    // When the container is ensured twice, the second time with the environment in another order
    const first = await engine.ensureContainer(spec);
    const second = await engine.ensureContainer({
      ...spec,
      env: { LOG_LEVEL: 'INFO', NODE_NAME: 'validator-1' },
    });
    // Then it was created once and kept
    expect(first.action).toBe('created');
    expect(second).toEqual({ id: first.id, action: 'unchanged' });
    // And Docker holds exactly the configuration asked for
    const info = await new Docker({ socketPath: engineSocket() }).getContainer(spec.name).inspect();
    expect(info.Config.Cmd).toEqual(['sh', '-c', 'echo ready; sleep 3600']);
    expect(info.Config.Env).toEqual(expect.arrayContaining(['LOG_LEVEL=INFO', 'NODE_NAME=validator-1']));
    expect(info.Config.User).toBe('1000:1000');
    expect(info.Config.Labels[CONFIG_HASH_LABEL]).toMatch(/^[0-9a-f]{64}$/);
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.HostConfig.Binds).toEqual(['/tmp:/host-tmp:ro']);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('unless-stopped');
    expect(info.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(500_000_000);
    expect(info.HostConfig.LogConfig).toEqual({
      Type: 'json-file',
      Config: { 'max-size': '50m', 'max-file': '5' },
    });
  });

  it('replaces the container when its configuration changes, and when the tag moves to another image', async () => {
    // Given a running container
    const engine = anEngine();
    const spec = aContainerSpec();
    const first = await engine.ensureContainer(spec);
    await engine.startContainer(spec.name);
    // When the memory limit changes
    const changed = await engine.ensureContainer({ ...spec, memoryLimit: 128 * 1024 * 1024 });
    // Then a new container replaced the old one, which is gone
    expect(changed.action).toBe('replaced');
    expect(changed.id).not.toBe(first.id);
    const docker = new Docker({ socketPath: engineSocket() });
    const byOldId = await rejectionOf(docker.getContainer(first.id).inspect());
    expect((byOldId as { statusCode?: number }).statusCode).toBe(404);
    // When the image tag is moved to a newly imported image, with the spec unchanged
    const movedSpec = { ...spec, memoryLimit: 128 * 1024 * 1024, image: 'peruri-test/moving:1' };
    await docker.getImage(TEST_IMAGE).tag({ repo: 'peruri-test/moving', tag: '1' });
    const onOld = await engine.ensureContainer(movedSpec);
    const newImageId = await importTestImage(engineSocket());
    await docker.getImage(newImageId).tag({ repo: 'peruri-test/moving', tag: '1' });
    const onNew = await engine.ensureContainer(movedSpec);
    // Then the container is recreated on the new image
    expect(onOld.action).toBe('replaced');
    expect(onNew.action).toBe('replaced');
    const state = await engine.containerState(spec.name);
    expect(state.exists && state.imageId).toBe(newImageId);
  });

  it('starts, reports state and log lines, stops and removes; repeated start, stop and remove are harmless', async () => {
    // Given a created container
    const engine = anEngine();
    const spec = aContainerSpec();
    await engine.ensureContainer(spec);
    expect(await engine.containerState(spec.name)).toMatchObject({
      exists: true,
      status: 'created',
      running: false,
    });
    // When it is started (twice)
    await engine.startContainer(spec.name);
    await engine.startContainer(spec.name);
    // Then it runs and its last log line is "ready"
    const running = await stateWhen(engine, spec.name, (s) => s.exists && s.running);
    expect(running).toMatchObject({ exists: true, status: 'running', restartCount: 0, oomKilled: false });
    expect(await logsWhen(engine, spec.name, 10, 'ready')).toEqual(['ready']);
    // When it is stopped (twice) and removed (twice)
    await engine.stopContainer(spec.name, { graceSeconds: 0 });
    await engine.stopContainer(spec.name, { graceSeconds: 0 });
    const stopped = await engine.containerState(spec.name);
    await engine.removeContainer(spec.name);
    await engine.removeContainer(spec.name);
    // Then it was exited, and is gone
    expect(stopped).toMatchObject({ exists: true, status: 'exited', running: false });
    expect(await engine.containerState(spec.name)).toEqual({ exists: false });
    await expect(engine.stopContainer(spec.name)).resolves.toBeUndefined();
    // And starting a missing container is a RemoteError naming it
    const error = await rejectionOf(engine.startContainer(spec.name));
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).message).toContain(`docker start ${spec.name}: Docker answered 404`);
  });

  it('gives the last n log lines of stdout and stderr, and the exit code of a failed container', async () => {
    // Given a container that prints 50 numbered lines, the last one on stderr, and then exits with 3
    const engine = anEngine();
    const spec = aContainerSpec({
      // Docker copies stdout and stderr separately, so lines written at the same instant on both
      // can be recorded in either order (seen under load): the stderr line comes a second later.
      cmd: [
        'sh',
        '-c',
        'for i in $(seq 1 49); do echo "line $i"; done; sleep 1; echo "fatal: line 50" >&2; exit 3',
      ],
      restartPolicy: 'no',
    });
    await engine.ensureContainer(spec);
    // When it has run
    await engine.startContainer(spec.name);
    const exited = await stateWhen(engine, spec.name, (s) => s.exists && s.status === 'exited');
    // Docker may still be copying the last output when the state turns to exited.
    const lines = await logsWhen(engine, spec.name, 5, 'fatal: line 50');
    // Then the exit code and the last five lines are reported
    expect(exited).toMatchObject({ exists: true, exitCode: 3, running: false });
    expect(lines).toEqual(['line 46', 'line 47', 'line 48', 'line 49', 'fatal: line 50']);
  });

  it('reports an engine that does not answer, a time limit and an abort', async () => {
    // Given no engine at a socket path, and a socket that accepts but never answers
    const dir = await aTempDir('pc-silent-');
    const silentPath = join(dir, 'silent.sock');
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(silentPath, resolve));
    onTestFinished(() => {
      sockets.forEach((socket) => socket.destroy());
      return closeServer(silent);
    });
    // When each is asked something
    const absent = await rejectionOf(anEngine({ socketPath: join(dir, 'absent.sock') }).ping());
    const started = Date.now();
    const slow = await rejectionOf(anEngine({ socketPath: silentPath }).ping({ timeoutMs: 300 }));
    const elapsed = Date.now() - started;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const aborted = await rejectionOf(
      anEngine({ socketPath: silentPath }).containerState('x', { signal: controller.signal }),
    );
    // Then each is the right kind of error
    expect(absent).toBeInstanceOf(RemoteError);
    expect((absent as RemoteError).message).toContain('the Docker engine does not answer');
    expect(slow).toBeInstanceOf(RemoteError);
    expect((slow as RemoteError).message).toContain('no answer within 300 ms');
    expect(elapsed).toBeLessThan(3_000);
    expect(aborted).toBeInstanceOf(InterruptedError);
  });

  it.skipIf(sshdUnavailable() !== undefined && process.env.CI !== 'true')(
    'does the same through an SSH connection, forwarding the engine socket over it',
    async () => {
      // Given a machine reached over SSH whose engine listens on a unix socket there
      const sshd = await aRunningSshd();
      const knownHostsFile = join(await aTempDir('pc-ws-'), 'known_hosts');
      await recordHostKey(knownHostsFile, sshd.host, sshd.port, sshd.hostKey);
      const machine: SshMachine = await connectSsh({
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        auth: { privateKeyFile: sshd.clientKeyFile },
        knownHostsFile,
      });
      onTestFinished(() => machine.close());
      const engine = anEngine({ through: machine, socketPath: engineSocket() });
      const spec = aContainerSpec();
      // When the deploy operations run through it
      await engine.ping();
      const missing = await rejectionOf(engine.requireImage('hyperledger/besu:99.0.0'));
      const created = await engine.ensureContainer(spec);
      const again = await engine.ensureContainer(spec);
      await engine.startContainer(spec.name);
      const running = await stateWhen(engine, spec.name, (s) => s.exists && s.running);
      const lines = await logsWhen(engine, spec.name, 5, 'ready');
      // Then they behave as over the local socket, and errors name the SSH host
      expect(missing).toBeInstanceOf(RefusedError);
      expect((missing as RefusedError).message).toContain(`127.0.0.1:${sshd.port}: the image`);
      expect(again).toEqual({ id: created.id, action: 'unchanged' });
      expect(running).toMatchObject({ exists: true, id: created.id, running: true });
      expect(lines).toEqual(['ready']);
      // And a socket missing on the machine is a RemoteError naming the host
      const absent = await rejectionOf(
        anEngine({ through: machine, socketPath: '/nonexistent/docker.sock' }).ping(),
      );
      expect(absent).toBeInstanceOf(RemoteError);
      expect((absent as RemoteError).host).toBe(`127.0.0.1:${sshd.port}`);
    },
  );
});
