import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readSync, closeSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { create as createTar } from 'tar';
import { afterAll, beforeAll } from 'vitest';

import { runLocal } from '../../src/io/exec.js';
import { describeRequiring } from './requirement.js';

/** Debian's Docker engine (package docker.io). */
export const DOCKERD_BINARY = '/usr/sbin/dockerd';
/** Debian's statically linked busybox (package busybox-static): the whole test image. */
export const BUSYBOX_BINARY = '/bin/busybox';
/** The tiny image every test container runs, imported from a local rootfs tarball (no registry). */
export const TEST_IMAGE = 'peruri-test/busybox:1';

/**
 * A busybox image standing in for Besu's: its entrypoint prints the arguments it was given (the
 * `--config-file=…` of the node) and keeps running, as a node would.
 */
export const BESU_STAND_IN = {
  ref: 'peruri-test/besu-stand-in:1',
  changes: ['ENTRYPOINT ["/bin/sh", "-c", "echo \\"besu stand-in $*\\"; id; exec sleep 86400", "besu"]'],
};

/** A running Docker engine of the tests' own, on a unix socket under a temp folder. */
export interface Dockerd {
  socketPath: string;
  dir: string;
  pid: number;
  /** What dockerd has printed so far. */
  log(): string;
  /** Milliseconds from spawn until /_ping answered. */
  startupMs: number;
  /** Stops dockerd by its PID, unmounts what it left mounted and removes its folder. */
  stop(): Promise<void>;
}

/** Why dockerd cannot run here, or undefined when it can. */
export function dockerdUnavailable(): string | undefined {
  if (!existsSync(DOCKERD_BINARY)) return `${DOCKERD_BINARY} is missing (apt-get install -y docker.io)`;
  if (process.getuid?.() !== 0) return 'dockerd needs root';
  if (!existsSync(BUSYBOX_BINARY)) return `${BUSYBOX_BINARY} is missing (apt-get install -y busybox-static)`;
  if (!isStatic(BUSYBOX_BINARY)) {
    return `${BUSYBOX_BINARY} is dynamically linked; the test image needs busybox-static (apt-get install -y busybox-static)`;
  }
  return undefined;
}

/**
 * Declares a suite that needs a real Docker engine. Without one the suite is skipped with the
 * reason printed, except in CI (CI=true), where its absence fails.
 * @param title - suite title
 * @param body - declares the tests
 */
export function describeWithDockerd(title: string, body: () => void): void {
  describeRequiring(title, 'Docker engine', dockerdUnavailable(), body);
}

/**
 * A Docker engine for the enclosing suite: started before its tests (with the given test images
 * imported) and stopped after them. Call it in a describe body.
 * @param images - test images to import, as {@link importTestImage} takes them
 * @returns the engine, for the suite's tests (throws when it did not start)
 */
export function dockerdForSuite(images: { ref: string; changes?: string[] }[]): () => Dockerd {
  let engine: Dockerd | undefined;
  beforeAll(async () => {
    engine = await startDockerd();
    for (const image of images) await importTestImage(engine.socketPath, image);
  }, 90_000);
  afterAll(async () => {
    await engine?.stop();
  }, 60_000);
  return () => {
    if (!engine) throw new Error('dockerd did not start (see beforeAll)');
    return engine;
  };
}

/**
 * Starts dockerd as ENVIRONMENT.md describes (no iptables, no bridge, vfs storage) with its own
 * data root, exec root, pidfile and socket under a temp folder, and waits until /_ping answers.
 * @param readyTimeoutMs - how long to wait for /_ping (default 30,000 ms)
 * @returns the running engine; call `stop()` when done, even after a failed test
 */
export async function startDockerd(readyTimeoutMs = 30_000): Promise<Dockerd> {
  // Short path: the socket path must stay under the 108-byte limit of unix sockets.
  const dir = await mkdtemp(join(tmpdir(), 'pc-dockerd-'));
  const socketPath = join(dir, 'docker.sock');
  const started = Date.now();
  const child = spawn(
    DOCKERD_BINARY,
    [
      '--iptables=false',
      '--bridge=none',
      '--storage-driver=vfs',
      '--data-root',
      join(dir, 'data'),
      '--exec-root',
      join(dir, 'exec'),
      '--pidfile',
      join(dir, 'docker.pid'),
      '--host',
      `unix://${socketPath}`,
      // Containers still running when the engine stops get one second, not the default 15.
      '--shutdown-timeout',
      '1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let failed: Error | undefined;
  child.once('error', (error) => (failed = error));
  const stop = async (): Promise<void> => {
    await kill(child, exited);
    await unmountBelow(dir);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (failed || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`dockerd exited before it was ready: ${failed?.message ?? ''}\n${log}`);
    }
    if (await pings(socketPath)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`dockerd did not answer /_ping within ${readyTimeoutMs} ms:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { socketPath, dir, pid: child.pid!, log: () => log, startupMs: Date.now() - started, stop };
}

/**
 * Builds a rootfs tarball holding the static busybox (with links for the applets the tests use)
 * and imports it as {@link TEST_IMAGE}, as `docker import` would; no registry is involved.
 * @param socketPath - the engine's socket
 * @returns the image ID
 */
export async function importTestImage(
  socketPath: string,
  image: { ref: string; changes?: string[] } = { ref: TEST_IMAGE },
): Promise<string> {
  const rootfs = await mkdtemp(join(tmpdir(), 'pc-rootfs-'));
  try {
    await mkdir(join(rootfs, 'bin'));
    await mkdir(join(rootfs, 'tmp'), { mode: 0o1777 });
    await copyFile(BUSYBOX_BINARY, join(rootfs, 'bin', 'busybox'));
    for (const applet of ['sh', 'echo', 'sleep', 'cat', 'id', 'env', 'ls', 'seq']) {
      await symlink('busybox', join(rootfs, 'bin', applet));
    }
    const tarball = createTar({ cwd: rootfs, portable: true }, ['bin', 'tmp']);
    const docker = new Docker({ socketPath });
    const [repo, tag] = image.ref.split(':') as [string, string];
    // `changes` are Dockerfile instructions applied on import (docker import --change).
    const progress = await docker.importImage(tarball as unknown as NodeJS.ReadableStream, {
      repo,
      tag,
      ...(image.changes ? { changes: image.changes } : {}),
    });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(progress, (error) => (error ? reject(error) : resolve())),
    );
    return (await docker.getImage(image.ref).inspect()).Id;
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

function pings(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 1_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK'));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

// dockerd leaves <exec-root>/netns/default mounted (ENVIRONMENT.md); anything else mounted below
// the folder is unmounted too, deepest first, so the folder can be removed.
async function unmountBelow(dir: string): Promise<void> {
  const mountInfo = await readFile('/proc/self/mountinfo', 'utf8');
  const points = mountInfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of points) {
    await runLocal('umount', [point], { timeoutMs: 10_000 }).catch(() =>
      runLocal('umount', ['-l', point], { timeoutMs: 10_000 }).catch(() => undefined),
    );
  }
}

// A static ELF has no PT_INTERP program header; a dynamic one names its loader, which sits in
// the first page.
function isStatic(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    readSync(fd, head, 0, head.length, 0);
    return !head.includes('/lib64/ld-linux') && !head.includes('/lib/ld-linux');
  } finally {
    closeSync(fd);
  }
}
