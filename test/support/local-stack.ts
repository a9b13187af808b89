import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { expect, onTestFinished } from 'vitest';
import { anvilBinary } from '../../src/core/local/anvil.js';
import { stopStack } from '../../src/core/local/down.js';
import { packagePath } from '../../src/core/package-paths.js';
import { processStartTime } from '../../src/io/detached.js';
import { runCli } from './cli.js';
import { freePort } from './net.js';

/** A workspace of the built-in local example on free ports, for `up` tests. */
export interface LocalWorkspace {
  dir: string;
  rpcUrl: string;
  adapterUrl: string;
}

/** Why `up` cannot be tested here (no anvil for this platform), or undefined when it can. */
export function anvilMissing(): string | undefined {
  try {
    anvilBinary();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Creates a workspace from the `local` example with the transaction node's RPC port and the
 * adapter's port moved to free ones. When the test finishes, whatever `up` left running in it is
 * stopped (always, also when the test failed) and the folder removed.
 * @param options - a fixed RPC port (to collide with something on purpose)
 */
export async function aLocalWorkspace(options: { rpcPort?: number } = {}): Promise<LocalWorkspace> {
  const root = await mkdtemp(join(tmpdir(), 'peruri-up-'));
  const dir = join(root, 'ws');
  onTestFinished(async () => {
    await stopStack(dir, { adapterGraceMs: 5_000, chainGraceMs: 5_000 });
    await rm(root, { recursive: true, force: true });
  });
  const rpcPort = options.rpcPort ?? (await freePort());
  const adapterPort = await freePort();
  const spec = parse(await readFile(packagePath('examples', 'local', 'network.yaml'), 'utf8')) as {
    nodes: { role: string; rpcPort: number }[];
    service: { adapterPort: number };
  };
  spec.nodes.find((node) => node.role === 'tx')!.rpcPort = rpcPort;
  spec.service.adapterPort = adapterPort;
  await writeFile(join(root, 'network.yaml'), stringify(spec));
  const init = await runCli(['init', '--spec', join(root, 'network.yaml'), '--dir', dir, '--json']);
  expect(init.exitCode, init.stderr).toBe(0);
  return { dir, rpcUrl: `http://127.0.0.1:${rpcPort}`, adapterUrl: `http://127.0.0.1:${adapterPort}` };
}

/**
 * Whether a process with this pid runs. A stopped process whose parent (the finished CLI) is gone
 * may linger as a zombie until PID 1 reaps it; that counts as gone.
 */
export async function pidRuns(pid: number): Promise<boolean> {
  return (await processStartTime(pid)) !== undefined;
}

/** One JSON-RPC call to a node (for checks in tests). */
export async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return ((await response.json()) as { result: unknown }).result;
}
