// `npm start`: the main job on this machine with the embedded defaults. It creates the
// one-machine example workspace in ./workspace when there is none, then checks it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const dir = process.env.PERURI_CHAIN_DIR ?? 'workspace';
const run = (...args) => execFileSync(process.execPath, [cli, ...args], { stdio: 'inherit' });

if (!existsSync(`${dir}/network.yaml`)) run('init', '--example', 'local', '--dir', dir);
run('validate', '--dir', dir);
