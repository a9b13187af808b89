// `npm start`: the main job on this machine with the embedded defaults. It creates the
// one-machine example workspace in ./workspace when there is none, then runs the whole stack
// (`up`): a local chain, the contracts and the adapter, left running; `down` stops them.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const dir = process.env.PERURI_CHAIN_DIR ?? 'workspace';
const run = (...args) => execFileSync(process.execPath, [cli, ...args], { stdio: 'inherit' });

try {
  if (!existsSync(`${dir}/network.yaml`)) run('init', '--example', 'local', '--dir', dir);
  run('up', '--dir', dir, ...process.argv.slice(2));
} catch (error) {
  // The CLI has said what went wrong; pass its exit code on without a Node stack trace.
  process.exit(typeof error.status === 'number' ? error.status : 1);
}
