// Mirror benchmark: the adapter (SQLite, generated configuration) on a local anvil with 2-second
// blocks, measured in two phases:
//  1. live: activities sent over HTTP at --rate for --seconds; confirmations per second, p95 time
//     from 202 to confirmed (the adapter's own histogram), the adapter's peak RSS;
//  2. backlog: --fill-seconds of activities accepted while the worker has no chain, then the worker
//     is given the chain and drains the queue: confirmations per second it sustains.
// Writes its section of bench/RESULTS.md unless --no-write.
// Run after `npm run build`: `node bench/mirror.js [--rate 5000] [--seconds 60] [--fill-seconds 100]`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { parse, stringify } from 'yaml';
import { ADAPTER_NODE_OPTIONS, adapterNodeOptions } from '../dist/core/adapter-node-options.js';
import { anvilBinary } from '../dist/core/local/anvil.js';
import { cli, freePort, machine, replaceSection, root, runCli } from './support/report.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(args[index + 1]);
};
const rate = option('rate', 5000);
const seconds = option('seconds', 60);
const fillSeconds = option('fill-seconds', 100);
const write = !args.includes('--no-write');
const children = [];
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));

const scratch = mkdtempSync(join(tmpdir(), 'peruri-bench-mirror-'));
const dir = join(scratch, 'ws');
runCli(['init', '--example', 'local', '--dir', dir, '--json']);
const rpcPort = await freePort();
const rpcUrl = `http://127.0.0.1:${rpcPort}`;
const anvil = start(anvilBinary(), [
  '--port',
  String(rpcPort),
  '--chain-id',
  '1337',
  '--block-time',
  '2',
  '--hardfork',
  'london',
  '--gas-price',
  '0',
  '--base-fee',
  '0',
  '--gas-limit',
  '3000000000',
  '--silent',
]);
await waitFor(async () => (await rpc('eth_chainId')) === '0x539', 'anvil');
runCli(['contracts', 'deploy', '--dir', dir, '--rpc', rpcUrl, '--json']);

const configFile = join(dir, 'service/adapter.yaml');
const config = parse(readFileSync(configFile, 'utf8'));
const adapterPort = await freePort();
const adapterUrl = `http://127.0.0.1:${adapterPort}`;
config.listen = { host: '127.0.0.1', port: adapterPort };
config.rpcUrl = rpcUrl;
writeFileSync(configFile, stringify(config));
// The same database, no chain: the fill phase's adapter accepts but cannot mirror.
const noChainConfig = join(dir, 'service/adapter-no-chain.yaml');
writeFileSync(noChainConfig, stringify({ ...config, rpcUrl: `http://127.0.0.1:${await freePort()}` }));
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
  .setExpirationTime('2h')
  .sign(new TextEncoder().encode(jwtSecret));

// Phase 1: live. The users' wallets exist already (as for an app's returning users); a first
// sight costs a key derivation, about a millisecond of CPU, and is not what this measures.
let adapter = await startAdapter(configFile);
await warmWallets(5000);
const live = await measure(async () => load(rate, seconds));
await waitFor(
  async () => (await metrics()).queued === 0 && (await metrics()).inFlight === 0,
  'the live queue to drain',
  180_000,
);
const afterLive = await metrics();
await stopAdapter(adapter);

// Phase 2: backlog.
adapter = await startAdapter(noChainConfig);
const fill = await load(0, fillSeconds);
await stopAdapter(adapter);
adapter = await startAdapter(configFile);
const backlog = await measure(() =>
  waitFor(
    async () => (await metrics()).queued === 0 && (await metrics()).inFlight === 0,
    'the backlog to drain',
    900_000,
  ),
);
await stopAdapter(adapter);
anvil.kill('SIGTERM');

const liveSeconds = live.samples.length;
const section = `<!-- bench:mirror -->
## Mirror: activities confirmed on-chain

Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.

Command: \`npm run build && node bench/mirror.js --rate ${rate} --seconds ${seconds} --fill-seconds ${fillSeconds}\`: anvil (\`--block-time 2 --hardfork london --gas-price 0\`), the adapter as its own process with the generated configuration and the Node options its launchers set (\`${ADAPTER_NODE_OPTIONS}\`) (SQLite; batches of up to ${config.mirror?.batchMaxSize ?? 10000} cut every second, 400 payments per mint transaction), activities for 5,000 users (wallets created before the run) with points (every 50th with a badge) from a load process over keep-alive HTTP; load, adapter and anvil share the 2 cores.

| phase | activities | confirmed per second | p95 202 → confirmed | adapter peak RSS |
|---|---:|---:|---:|---:|
| live: ${rate.toLocaleString('en')}/s asked for ${seconds} s | ${live.result.accepted.toLocaleString('en')} accepted (${Math.round(live.result.accepted / live.result.seconds).toLocaleString('en')}/s) | ${Math.round(live.confirmedDuringLoad / liveSeconds).toLocaleString('en')} while loading | ${afterLive.p95} | ${live.peakRssMb} MB |
| backlog: ${fill.accepted.toLocaleString('en')} queued, then drained | ${fill.accepted.toLocaleString('en')} | ${Math.round(backlog.confirmed / backlog.samples.length).toLocaleString('en')} over ${backlog.samples.length} s | — | ${backlog.peakRssMb} MB |

At each phase's RSS peak: live, ${memoryAt(live)}; backlog, ${memoryAt(backlog)}. The rest of the RSS is the node binary's code, SQLite's page caches and malloc.

Targets: ≥ 5,000 confirmed per second sustained for 60 s; p95 ≤ 5 s; RSS ≤ 200 MB.
<!-- bench:mirror-stop -->`;
console.log(section);
if (write) replaceSection('mirror', section);
process.exit(0);

function memoryAt(phase) {
  const memory = phase.peakMemory;
  return memory
    ? `V8's heap ${memory.heapTotalMb} MB (${memory.heapUsedMb} MB in use) and buffers ${memory.externalMb} MB`
    : 'not sampled';
}

async function measure(work) {
  const before = await metrics();
  const samples = [];
  let peakRss = 0;
  let peakMemory;
  let running = true;
  const sampler = (async () => {
    while (running) {
      await sleep(1000);
      const now = await metrics().catch(() => undefined);
      if (now) samples.push(now.confirmed);
      const rss = rssMb(adapter.pid);
      if (rss > peakRss && now) peakMemory = now.memory;
      peakRss = Math.max(peakRss, rss);
      if (process.env.BENCH_MEMORY && now) console.error(`rss ${rss} MB`, now.memory, rssParts(adapter.pid));
    }
  })();
  const result = await work();
  const end = await metrics();
  running = false;
  await sampler;
  return {
    result,
    samples,
    confirmed: end.confirmed - before.confirmed,
    confirmedDuringLoad: end.confirmed - before.confirmed,
    peakRssMb: peakRss,
    peakMemory,
  };
}

async function warmWallets(users) {
  for (let first = 0; first < users; first += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, users - first) }, (_, index) =>
        fetch(`${adapterUrl}/wallet/status?userId=user-${first + index}`, {
          headers: { authorization: `Bearer ${token}` },
        }).then((response) => response.arrayBuffer()),
      ),
    );
  }
}

async function metrics() {
  const text = await (await fetch(`${adapterUrl}/metrics`)).text();
  const value = (pattern) => Number(new RegExp(`^${pattern} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  const count = value('peruri_adapter_confirmation_latency_seconds_count');
  const buckets = [
    ...text.matchAll(/^peruri_adapter_confirmation_latency_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm),
  ].map(([, le, n]) => [le, Number(n)]);
  const p95 = buckets.find(([, n]) => n >= 0.95 * count)?.[0];
  return {
    confirmed: value('peruri_adapter_activities_settled_total\\{outcome="confirmed"\\}'),
    queued: value('peruri_adapter_queue_depth'),
    inFlight: value('peruri_adapter_batches_in_flight'),
    memory: {
      heapUsedMb: Math.round(value('peruri_adapter_nodejs_heap_size_used_bytes') / 2 ** 20),
      heapTotalMb: Math.round(value('peruri_adapter_nodejs_heap_size_total_bytes') / 2 ** 20),
      externalMb: Math.round(value('peruri_adapter_nodejs_external_memory_bytes') / 2 ** 20),
    },
    p95: count === 0 ? 'n/a' : p95 === '+Inf' ? '> 300 s' : `≤ ${p95} s`,
  };
}

function load(perSecond, duration) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(root, 'bench/support/load.js'), adapterUrl, token, String(perSecond), String(duration)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`load exited ${code}`)),
    );
  });
}

async function startAdapter(file) {
  // BENCH_CPU_PROF=DIR writes a V8 CPU profile of each adapter run there (to find hot spots).
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
    : [];
  const child = start(
    process.execPath,
    [...profile, cli, 'adapter', 'start', '--config', file, '--json'],
    env,
  );
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return child;
}

async function stopAdapter(child) {
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}

function start(command, commandArgs, childEnv = process.env) {
  const child = spawn(command, commandArgs, { env: childEnv, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  return child;
}

function rssParts(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => Math.round(Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)[1]) / 1024);
    return { anonMb: field('RssAnon'), fileMb: field('RssFile'), shmemMb: field('RssShmem') };
  } catch {
    return {};
  }
}

function rssMb(pid) {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
    return Math.round(kb / 1024);
  } catch {
    return 0;
  }
}

async function rpc(method) {
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: [] }),
    });
    return (await response.json()).result;
  } catch {
    return undefined;
  }
}

async function waitFor(check, what, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
