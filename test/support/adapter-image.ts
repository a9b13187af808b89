import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import { create as createTar } from 'tar';
import { runLocal } from '../../src/io/exec.js';
import { packagePath } from '../../src/core/package-paths.js';
import { BUSYBOX_BINARY } from './dockerd.js';

/** The adapter's image as deploy's `--adapter-image` names it in the tests. */
export const ADAPTER_TEST_IMAGE = 'peruri-test/adapter:1';

/** Where the package lives in the image. */
const APP_DIR = 'opt/peruri-chain';

/**
 * Builds the adapter's image from this machine and imports it, as `docker import` would: no
 * registry is reachable, so there is no Node base image to build FROM. The root filesystem holds
 * busybox (the container's entrypoint is /bin/sh), a root user, this machine's node binary with the shared
 * libraries it links against, and the built package (bin, dist, templates, contract artifacts,
 * package.json, node_modules) with `peruri-chain` on the PATH: what an image built from a Node
 * base image with `npm ci` would hold. Needs `npm run build` first (dist).
 * @param socketPath - the engine's socket
 * @returns the image ID
 */
export async function importAdapterImage(socketPath: string): Promise<string> {
  const rootfs = await mkdtemp(join(tmpdir(), 'pc-adapter-rootfs-'));
  try {
    await mkdir(join(rootfs, 'bin'));
    await mkdir(join(rootfs, 'tmp'), { mode: 0o1777 });
    await copyFile(BUSYBOX_BINARY, join(rootfs, 'bin', 'busybox'));
    await symlink('busybox', join(rootfs, 'bin', 'sh'));
    // Every Debian-based image has these; Node's os.homedir() (oclif asks it) needs the user's entry.
    await mkdir(join(rootfs, 'etc'));
    await writeFile(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\n');
    await mkdir(join(rootfs, 'root'), { mode: 0o700 });
    await mkdir(join(rootfs, 'usr/local/bin'), { recursive: true });
    await copyFile(process.execPath, join(rootfs, 'usr/local/bin/node'));
    const libraries = await sharedLibraries(process.execPath);
    for (const library of libraries) {
      await mkdir(join(rootfs, dirname(library)), { recursive: true });
      await copyFile(library, join(rootfs, library));
    }
    await writeFile(
      join(rootfs, 'usr/local/bin/peruri-chain'),
      `#!/bin/sh\nexec /usr/local/bin/node /${APP_DIR}/bin/run.js "$@"\n`,
      { mode: 0o755 },
    );
    // The package's own folders, linked here and archived through the links (tar follows them
    // below), so the 350 MB of node_modules are not copied twice.
    await mkdir(join(rootfs, APP_DIR, 'contracts'), { recursive: true });
    for (const part of ['bin', 'dist', 'templates', 'node_modules', 'package.json', 'contracts/build']) {
      await symlink(packagePath(...part.split('/')), join(rootfs, APP_DIR, part));
    }
    const top = [...new Set(['bin', 'etc', 'root', 'tmp', 'usr', 'opt', ...libraries.map(topFolder)])];
    const tarball = createTar({ cwd: rootfs, portable: true, follow: true }, top);
    const docker = new Docker({ socketPath });
    const [repo, tag] = ADAPTER_TEST_IMAGE.split(':') as [string, string];
    const progress = await docker.importImage(tarball as unknown as NodeJS.ReadableStream, {
      repo,
      tag,
      changes: ['ENV PATH=/usr/local/bin:/bin'],
    });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(progress, (error) => (error ? reject(error) : resolve())),
    );
    return (await docker.getImage(ADAPTER_TEST_IMAGE).inspect()).Id;
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}

/** The shared libraries a binary loads, the dynamic loader included, as ldd resolves them. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await runLocal('ldd', [binary]);
  return stdout
    .split('\n')
    .map((line) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)?.[1])
    .filter((path): path is string => path !== undefined);
}

function topFolder(path: string): string {
  return path.split('/').filter(Boolean)[0]!;
}
