// Intake benchmark: `POST /activity/track` of the adapter (SQLite, durable group commit, JWT,
// default configuration) against a no-op fastify route in the same run, both driven by wrk from
// its own process. Writes its section of bench/RESULTS.md unless --no-write.
// Run after `npm run build`: `node bench/intake.js [--seconds 20] [--connections 64]`.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { parse, stringify } from 'yaml';
import { adapterNodeOptions } from '../dist/core/adapter-node-options.js';
import { cli, freePort, machine, replaceSection, root, runCli } from './support/report.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(args[index + 1]);
};
const seconds = option('seconds', 20);
const connections = option('connections', 64);
const write = !args.includes('--no-write');

if (spawnSync('wrk', ['--version']).error) {
  console.error('wrk is needed (Debian: apt-get install wrk)');
  process.exit(2);
}

const scratch = mkdtempSync(join(tmpdir(), 'peruri-bench-intake-'));
const dir = join(scratch, 'ws');
runCli(['init', '--example', 'local', '--dir', dir, '--json']);
const configFile = join(dir, 'service/adapter.yaml');
const config = parse(readFileSync(configFile, 'utf8'));
const adapterPort = await freePort();
config.listen = { host: '127.0.0.1', port: adapterPort };
// No chain: this measures intake alone (the worker waits for a chain and claims nothing).
config.rpcUrl = `http://127.0.0.1:${await freePort()}`;
writeFileSync(configFile, stringify(config));
const jwtSecret = randomBytes(32).toString('hex');
const env = {
  ...process.env,
  PERURI_CHAIN_KEYSTORE_PASSWORD: readFileSync(join(dir, 'secrets/dev-keystore-password'), 'utf8').trim(),
  PERURI_CHAIN_ADAPTER_JWT_SECRET: jwtSecret,
  // As every launcher of the adapter runs it (up, the systemd unit, the container).
  NODE_OPTIONS: adapterNodeOptions(process.env.NODE_OPTIONS),
};
const token = await new SignJWT({ sub: 'bench', aud: config.auth.jwt.audience })
  .setProtectedHeader({ alg: 'HS256' })
  .setExpirationTime('1h')
  .sign(new TextEncoder().encode(jwtSecret));

const noopPort = await freePort();
const noop = spawn(process.execPath, [join(root, 'bench/support/noop-server.js'), String(noopPort)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await firstLine(noop);
// BENCH_CPU_PROF=DIR writes a V8 CPU profile of the adapter there (to find hot spots).
const profile = process.env.BENCH_CPU_PROF
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
  : [];
const adapter = spawn(
  process.execPath,
  [...profile, cli, 'adapter', 'start', '--config', configFile, '--json'],
  {
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  },
);
await firstLine(adapter);

const results = [];
try {
  // Interleaved, twice each, so both see the same machine state.
  for (const round of [1, 2]) {
    results.push({
      round,
      target: 'no-op route',
      ...measured(noop.pid, `http://127.0.0.1:${noopPort}/noop`),
    });
    results.push({
      round,
      target: 'POST /activity/track',
      ...measured(adapter.pid, `http://127.0.0.1:${adapterPort}/activity/track`),
    });
  }
  // Every request must have created an activity: a replay is cheaper and would flatter the figure.
  const counted = await intakeCounts();
  if (counted.replayed > 0 || counted.conflict > 0) {
    throw new Error(
      `intake saw ${counted.replayed} replays and ${counted.conflict} conflicts; every key must be new`,
    );
  }
} finally {
  adapter.kill('SIGTERM');
  noop.kill('SIGTERM');
}
const best = (target) => results.filter((r) => r.target === target).sort((a, b) => b.rps - a.rps)[0];
const ratio = best('POST /activity/track').rps / best('no-op route').rps;
const table = [
  '| run | target | requests/s | p50 | p99 | non-2xx | server CPU per request | server disk writes per request | machine CPU busy |',
  '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    (r) =>
      `| ${r.round} | ${r.target} | ${Math.round(r.rps).toLocaleString('en')} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.cpuMicros} µs | ${r.diskKiB} KiB | ${r.machineBusy} % |`,
  ),
].join('\n');
const section = `<!-- bench:intake -->
## Durable intake (HTTP)

Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.

Command: \`npm run build && node bench/intake.js --seconds ${seconds} --connections ${connections}\`: wrk (2 threads, ${connections} connections, ${seconds} s per run) from its own process; the adapter with its generated configuration (SQLite in WAL mode, each group commit's WAL fsynced before its requests are answered, JWT HS256, request log at info), each request a new activity with a new idempotency key (random order, as clients' UUIDs) for one of 1,000 users (their wallets made during run 1); the no-op route is a fastify 5 server that parses the same JSON body and answers 202. Server disk writes: what the kernel wrote to the disk for the server process (its /proc io \`write_bytes\`: the log, checkpoints into the database file). Machine CPU busy: the ${cpus().length} cores together, every process and the kernel, over the run (100 % = every core busy).

${table}

Intake / no-op (best runs): **${(ratio * 100).toFixed(0)} %** (target ≥ 50 %); intake p99 ${best('POST /activity/track').p99} (target ≤ 50 ms).
<!-- bench:intake-stop -->`;
console.log(section);
if (write) replaceSection('intake', section);

/**
 * A wrk run with the server process's CPU time (all its threads) and disk writes per request
 * answered, and how busy the whole machine was meanwhile. The server, wrk and the kernel share
 * the cores, so that last figure tells a server short of CPU from one waiting on something else.
 */
function measured(pid, url) {
  const before = cpuSeconds(pid);
  const writtenBefore = bytesWritten(pid);
  const machineBefore = machineTicks();
  const result = wrk(url);
  const cpu = cpuSeconds(pid) - before;
  const written = bytesWritten(pid) - writtenBefore;
  const machineAfter = machineTicks();
  const busy = 1 - (machineAfter.idle - machineBefore.idle) / (machineAfter.total - machineBefore.total);
  const requests = result.rps * seconds;
  return {
    ...result,
    cpuMicros: Math.round((cpu / requests) * 1e6),
    diskKiB: (written / requests / 1024).toFixed(1),
    machineBusy: Math.round(busy * 100),
  };
}

/** What the process has had written to the disk so far (/proc/PID/io's write_bytes). */
function bytesWritten(pid) {
  return Number(/^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))[1]);
}

function machineTicks() {
  // /proc/stat's first line: the ticks of all cores by state; idle and iowait are the 4th and 5th.
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { total: ticks.reduce((sum, n) => sum + n, 0), idle: ticks[3] + ticks[4] };
}

function cpuSeconds(pid) {
  // /proc/PID/stat: utime and stime are fields 14 and 15, in clock ticks (100 per second).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function wrk(url) {
  // A script per run: each run's idempotency keys are new, so every request creates an activity.
  const script = join(scratch, `post-${randomBytes(4).toString('hex')}.lua`);
  writeFileSync(script, wrkScript(token, randomBytes(8).toString('hex')));
  const result = spawnSync(
    'wrk',
    ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency', '-s', script, url],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(result.stderr);
  const out = result.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  // The latency distribution's own lines ("     50%    1.76ms"), not the stdev percentages.
  const p50 = /^\s+50%\s+(\S+)$/m.exec(out)[1];
  const p99 = /^\s+99%\s+(\S+)$/m.exec(out)[1];
  const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50, p99, errors };
}

// Keys start with random hex, as clients' UUIDs do (keys in order would flatter the unique index
// they go into). wrk's Lua has an unseeded math.random (the same numbers in every run), so the
// keys take their uniqueness from the run's prefix given here, the thread's number and a counter.
function wrkScript(bearer, runPrefix) {
  return `
local counter = 0
local threads = 0
prefix = ""
function setup(thread)
  threads = threads + 1
  thread:set("prefix", "${runPrefix}-" .. threads)
end
request = function()
  counter = counter + 1
  local body = '{"userId":"user-' .. (counter % 1000) .. '","type":"quiz.completed","occurredAt":"2026-11-24T10:15:00+07:00","payload":{"quiz":' .. counter .. '},"points":"5"}'
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer ${bearer}",
    ["Idempotency-Key"] = string.format("%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff)) .. "-" .. prefix .. "-" .. counter
  }, body)
end
`;
}

async function intakeCounts() {
  const text = await (await fetch(`http://127.0.0.1:${adapterPort}/metrics`)).text();
  const count = (outcome) =>
    Number(
      new RegExp(`^peruri_adapter_intake_total\\{kind="activity",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(
        text,
      )?.[1] ?? 0,
    );
  return { created: count('created'), replayed: count('replayed'), conflict: count('conflict') };
}

function firstLine(child) {
  return new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', (code) => reject(new Error(`exited ${code} before it was ready`)));
  });
}
