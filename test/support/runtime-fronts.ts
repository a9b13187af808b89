import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { onTestFinished } from 'vitest';
import { identityFromPrivateKey, parseNodeKeyFile } from '../../src/core/keys/node-key.js';
import type { BesuFront, BesuNetwork } from './besu-front.js';

/** How a node's process runs on its (test) machine. */
export type FollowedRuntime =
  { kind: 'systemd'; unit: string; stateDir: string } | { kind: 'docker'; container: string; docker: Docker };

/** One node whose JSON-RPC front follows its runtime. */
export interface FollowedNode {
  name: string;
  /** The node folder on the machine: its `key` file says who the node is when it starts. */
  nodeDir: string;
  rpcPort: number;
  runtime: FollowedRuntime;
}

/** The fronts, by node name, as the runtimes make them run. */
export interface FollowedFronts {
  fronts: Map<string, BesuFront>;
  /**
   * Makes a node unreachable from now on: its front stops and does not come back when the runtime
   * (re)starts it, until `thaw`.
   */
  freeze(name: string): void;
  /** Lets the node's front follow its runtime again (it starts at once if the runtime runs it). */
  thaw(name: string): void;
  /** Stops following: the fronts then stay as they are. */
  stop(): void;
}

/**
 * Makes each node's besu-front run exactly when its runtime runs the node, under the key the
 * node folder holds at that moment: deploy and rotate-key start, stop and restart the real
 * container or (fake-systemd) unit, and a restart with a new key file comes back as another
 * validator — what Besu would do. The runtimes run a stand-in process (busybox `sleep`), so the
 * chain behind the fronts is the IBFT 2.0 model of besu-front.ts.
 * @param chain - the stand-in network
 * @param nodes - the nodes to follow
 * @param pollMs - how often the runtimes are looked at (default 50 ms)
 */
export function followRuntimes(chain: BesuNetwork, nodes: FollowedNode[], pollMs = 50): FollowedFronts {
  const fronts = new Map<string, BesuFront>();
  const seen = new Map<string, string | undefined>();
  const frozen = new Set<string>();
  let stopped = false;
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy || stopped) return;
    busy = true;
    try {
      for (const node of nodes) {
        try {
          if (frozen.has(node.name)) {
            const front = fronts.get(node.name);
            if (front?.running) await front.stop();
            seen.set(node.name, 'frozen');
            continue;
          }
          const instance = await runningInstance(node.runtime);
          if (instance === seen.get(node.name)) continue;
          const front = fronts.get(node.name);
          if (front?.running) await front.stop();
          if (instance) {
            const identity = await keyIdentity(node.nodeDir);
            if (!identity) continue;
            if (front) await front.start(identity);
            else
              fronts.set(
                node.name,
                await chain.startNode({ name: node.name, port: node.rpcPort, ...identity }),
              );
          }
          seen.set(node.name, instance);
        } catch {
          // A container being replaced or a pid file being rewritten: look again next time.
        }
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), pollMs);
  const stop = () => {
    stopped = true;
    clearInterval(timer);
  };
  onTestFinished(stop);
  return {
    fronts,
    freeze: (name) => frozen.add(name),
    thaw: (name) => frozen.delete(name),
    stop,
  };
}

// An id for the process running now (pid, or container id + start time); undefined when none runs.
async function runningInstance(runtime: FollowedRuntime): Promise<string | undefined> {
  if (runtime.kind === 'systemd') {
    const pid = Number(await readFile(join(runtime.stateDir, `${runtime.unit}.pid`), 'utf8').catch(() => ''));
    if (!pid) return undefined;
    try {
      process.kill(pid, 0);
      return String(pid);
    } catch {
      return undefined;
    }
  }
  try {
    const info = await runtime.docker.getContainer(runtime.container).inspect();
    return info.State.Running ? `${info.Id}@${info.State.StartedAt}` : undefined;
  } catch {
    return undefined;
  }
}

async function keyIdentity(nodeDir: string): Promise<{ address: string; publicKey: string } | undefined> {
  const text = await readFile(join(nodeDir, 'key'), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return identityFromPrivateKey(parseNodeKeyFile(text, 'key'));
}
