// CLI benchmarks: start-up (`--help`) and `init`, each as whole processes, median of N runs,
// with bare `node -e 0` measured in the same run for the ratio. Writes its section of
// bench/RESULTS.md unless --no-write. Run after `npm run build`: `node bench/cli.js`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cli, machine, replaceSection } from './support/report.js';

const password = 'benchmark keystore password';
const scratch = mkdtempSync(join(tmpdir(), 'peruri-bench-'));

function timeRuns(runs, args, env = {}, before = () => {}) {
  const samples = [];
  for (let index = 0; index < runs; index++) {
    before(index);
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
    samples.push(elapsed);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], min: samples[0], max: samples.at(-1), runs };
}

/** 30 validators, one organisation each; with `admins`, each organisation gives its admin address. */
function thirtyValidatorSpec(admins) {
  const organisations = Array.from({ length: 30 }, (_, index) => ({
    name: `org${index + 1}`,
    ...(admins ? { admin: `0x${(index + 1).toString(16).padStart(40, 'a')}` } : {}),
  }));
  const nodes = organisations.map((organisation, index) => ({
    name: `val${index + 1}`,
    organisation: organisation.name,
    role: 'validator',
    host: `10.40.0.${index + 1}`,
  }));
  nodes.push({ name: 'tx', organisation: 'org1', role: 'tx', host: '10.40.1.1' });
  return stringify({
    name: 'bench-thirty',
    chainId: 4040,
    organisations,
    nodes,
    service: { host: '10.40.1.2' },
  });
}

const spec30 = join(scratch, 'thirty.yaml');
writeFileSync(spec30, thirtyValidatorSpec(false));
const spec30Admins = join(scratch, 'thirty-admins.yaml');
writeFileSync(spec30Admins, thirtyValidatorSpec(true));
const workspace = join(scratch, 'ws');
const fresh = () => rmSync(workspace, { recursive: true, force: true });
const env = { PERURI_CHAIN_KEYSTORE_PASSWORD: password };

// The machine is shared; its load says how far these figures stand from a quiet machine's.
const loadBefore = loadavg();
const rows = [
  ['`node -e 0` (baseline)', timeRuns(20, ['-e', '0']), ''],
  ['`peruri-chain --help`', timeRuns(20, [cli, '--help']), '≤ 200 ms'],
  [
    // The floor under init of a non-dev network: node's start plus one key derivation.
    '`node -e` one scrypt N=2^17, r=8, p=1 (the floor under `init --example pilot`)',
    timeRuns(10, [
      '-e',
      "require('node:crypto').scryptSync('p', 's', 32, { N: 2 ** 17, r: 8, maxmem: 2 ** 28 })",
    ]),
    '',
  ],
  [
    '`init --example local` (4 nodes, 5 keystores at scrypt N=2^12)',
    timeRuns(10, [cli, 'init', '--example', 'local', '--dir', workspace], {}, fresh),
    '',
  ],
  [
    '`init --example pilot` (4 nodes, 5 keystores at scrypt N=2^17)',
    timeRuns(20, [cli, 'init', '--example', 'pilot', '--dir', workspace], env, fresh),
    '≤ 500 ms',
  ],
  [
    '`init --spec` 30 validators, admin addresses given (31 nodes, 2 keystores at N=2^17)',
    timeRuns(5, [cli, 'init', '--spec', spec30Admins, '--dir', workspace], env, fresh),
    '≤ 2 s',
  ],
  [
    '`init --spec` 30 validators, admin keys generated (31 nodes, 32 keystores at N=2^17)',
    timeRuns(3, [cli, 'init', '--spec', spec30, '--dir', workspace], env, fresh),
    '≤ 2 s',
  ],
];
rmSync(scratch, { recursive: true, force: true });
const loadAfter = loadavg();
const load = (averages) => averages.map((value) => value.toFixed(2)).join(' / ');

const table = [
  '| what | median | min | max | runs | target |',
  '|---|---:|---:|---:|---:|---|',
  ...rows.map(
    ([what, r, target]) =>
      `| ${what} | ${r.median.toFixed(0)} ms | ${r.min.toFixed(0)} ms | ${r.max.toFixed(0)} ms | ${r.runs} | ${target} |`,
  ),
].join('\n');
const section = `<!-- bench:cli -->
## CLI start-up and init

Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.

Command: \`npm run build && node bench/cli.js\` (whole processes, wall clock, median).
Load average (1 / 5 / 15 min) on ${cpus().length} cores: ${load(loadBefore)} before, ${load(loadAfter)} after.

${table}
<!-- bench:cli-stop -->`;
console.log(section);
if (!process.argv.includes('--no-write')) replaceSection('cli', section, { first: true });
