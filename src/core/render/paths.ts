import { posix } from 'node:path';
import type { NetworkSpec } from '../spec/types.js';

/**
 * Where the workspace's folders live on the machines. A relative installDir (one-machine
 * networks only) resolves against the workspace itself.
 * @param spec - the network spec
 * @param workspaceDir - absolute path of the workspace on this machine
 */
export function installRoot(spec: NetworkSpec, workspaceDir: string): string {
  return spec.installDir.startsWith('/')
    ? posix.normalize(spec.installDir)
    : posix.resolve(workspaceDir, spec.installDir);
}

/** The absolute folder of a node on its machine: `<installDir>/nodes/<name>`. */
export function nodeDirOnMachine(spec: NetworkSpec, workspaceDir: string, nodeName: string): string {
  return posix.join(installRoot(spec, workspaceDir), 'nodes', nodeName);
}

/** The absolute folder of the service (adapter) on its machine: `<installDir>/service`. */
export function serviceDirOnMachine(spec: NetworkSpec, workspaceDir: string): string {
  return posix.join(installRoot(spec, workspaceDir), 'service');
}
