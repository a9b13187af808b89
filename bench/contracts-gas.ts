// Gas and size of the contracts on anvil (London, zero gas price), written as the
// "## Contracts (gas and size)" section of bench/RESULTS.md.
//
//   npx tsx bench/contracts-gas.ts            measure, print, update bench/RESULTS.md
//   npx tsx bench/contracts-gas.ts --no-write measure and print only
//
// Exits 1 when a target is missed: at most 35,000 gas per additional mintBatch recipient, and
// an anchor whose gas is the same for every batch size and at most 80,000.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { format, resolveConfig } from 'prettier';
import { Contract, Wallet, getAddress, id, keccak256, toBeHex, type TransactionReceipt } from 'ethers';
import { loadArtifact, type ContractName } from '../src/core/contracts/artifacts.js';
import { deployContracts } from '../src/core/contracts/deploy.js';
import { connectRpc } from '../src/io/rpc.js';
import { startAnvil } from '../test/support/anvil.js';

const MINT_SIZES = [1, 10, 100, 500];
const BADGE_SIZES = [1, 100];
const ANCHOR_COUNTS = [1, 100, 10_000, 1_000_000];
const PER_RECIPIENT_TARGET = 35_000;
const ANCHOR_TARGET = 80_000;
const ZERO_GAS = { gasPrice: 0n, type: 0 } as const;
const COMMAND = 'npx tsx bench/contracts-gas.ts';
const SECTION = '## Contracts (gas and size)';

// Distinct addresses that have never held anything, so every mint writes a new balance slot.
let nextAccount = 0;
function freshAddresses(count: number): string[] {
  return Array.from({ length: count }, () => getAddress(keccak256(toBeHex(++nextAccount, 32)).slice(0, 42)));
}

async function main(): Promise<void> {
  const write = !process.argv.includes('--no-write');
  const node = await startAnvil({ chainId: 31337 });
  const provider = await connectRpc(node.url);
  try {
    const [deployer, admin, minter] = node.accounts.map((a) => new Wallet(a.privateKey, provider)) as [
      Wallet,
      Wallet,
      Wallet,
    ];
    const deployment = await deployContracts({
      signer: deployer,
      params: {
        token: { name: 'Peruri Points', symbol: 'PPT', decimals: 0 },
        badges: { uri: 'ipfs://b/{id}' },
      },
      admins: [admin.address],
      minter: minter.address,
      previous: undefined,
      onRecord: async () => {},
    });
    const contract = (name: ContractName): Contract =>
      new Contract(deployment.record.contracts[name]!.address, loadArtifact(name).abi, minter);
    const send = async (
      target: Contract,
      method: string,
      ...args: unknown[]
    ): Promise<TransactionReceipt> => {
      const response = await target.getFunction(method)(...args, ZERO_GAS);
      const receipt = await response.wait();
      if (!receipt || receipt.status !== 1) throw new Error(`${method} failed`);
      return receipt;
    };

    const token = contract('PointsToken');
    const mints: { size: number; gas: bigint; recipients: string[] }[] = [];
    for (const size of MINT_SIZES) {
      const recipients = freshAddresses(size);
      const refs = recipients.map((_, i) => id(`mint-${size}-${i}`));
      const receipt = await send(
        token,
        'mintBatch',
        recipients,
        recipients.map(() => 1_000n),
        refs,
      );
      mints.push({ size, gas: receipt.gasUsed, recipients });
    }
    // Second payments to the holders of the 100-recipient batch: their balance slots are non-zero.
    const holders = mints.find((m) => m.size === 100)!.recipients;
    const repeat = await send(
      token,
      'mintBatch',
      holders,
      holders.map(() => 1n),
      holders.map((_, i) => id(`r${i}`)),
    );

    const badges = contract('Badges');
    const badgeMints: { size: number; gas: bigint }[] = [];
    for (const size of BADGE_SIZES) {
      const recipients = freshAddresses(size);
      const receipt = await send(
        badges,
        'mintBatch',
        recipients,
        recipients.map(() => 1n),
        recipients.map(() => 1n),
        recipients.map((_, i) => id(`badge-${size}-${i}`)),
      );
      badgeMints.push({ size, gas: receipt.gasUsed });
    }

    const log = contract('ActivityLog');
    const anchors: { count: number; gas: bigint; execution: bigint }[] = [];
    for (const count of ANCHOR_COUNTS) {
      const receipt = await send(log, 'anchor', id(`root-${count}`), count, id(`batch-${count}`));
      const tx = await provider.getTransaction(receipt.hash);
      anchors.push({ count, gas: receipt.gasUsed, execution: receipt.gasUsed - intrinsicGas(tx!.data) });
    }

    const sizes = await Promise.all(
      deployment.contracts.map(async (c) => {
        const code = await provider.getCode(c.address);
        const receipt = await provider.getTransactionReceipt(c.txHash);
        return { name: c.name, runtime: (code.length - 2) / 2, deployGas: receipt!.gasUsed };
      }),
    );

    const marginal = (rows: { size: number; gas: bigint }[]) =>
      rows.slice(1).map((row, i) => ({
        from: rows[i]!.size,
        to: row.size,
        perRecipient: Number(row.gas - rows[i]!.gas) / (row.size - rows[i]!.size),
      }));
    const mintMarginal = marginal(mints);
    const worstPerRecipient = Math.max(...mintMarginal.map((m) => m.perRecipient));
    // Calldata costs 4 gas per zero byte and 16 per other byte, so the total moves by a few gas
    // with the values sent; what must not move with the batch size is the execution.
    const anchorConstant = anchors.every((a) => a.execution === anchors[0]!.execution);
    const anchorOk = anchorConstant && anchors.every((a) => Number(a.gas) <= ANCHOR_TARGET);
    const mintOk = worstPerRecipient <= PER_RECIPIENT_TARGET;

    const fmt = (n: number | bigint): string => Math.round(Number(n)).toLocaleString('en-US');
    const lines = [
      SECTION,
      '',
      `Machine: ${os.availableParallelism()}-core ${osName()} ${os.arch()} (${os.cpus()[0]?.model ?? 'unknown CPU'}), ` +
        `Node ${process.version}, anvil \`--hardfork london --gas-price 0 --base-fee 0\`, ` +
        `solc ${loadArtifact('PointsToken').solcVersion} (london, optimizer 200 runs). Date: ${today()}.`,
      '',
      `Command: \`${COMMAND}\``,
      '',
      '### PointsToken.mintBatch (every recipient new: its balance slot goes from zero to non-zero)',
      '',
      '| recipients | gas used | gas per recipient |',
      '|---:|---:|---:|',
      ...mints.map((m) => `| ${m.size} | ${fmt(m.gas)} | ${fmt(Number(m.gas) / m.size)} |`),
      '',
      '| step | gas per additional recipient | target ≤ 35,000 |',
      '|---|---:|---|',
      ...mintMarginal.map(
        (m) =>
          `| ${m.from} → ${m.to} | ${fmt(m.perRecipient)} | ${m.perRecipient <= PER_RECIPIENT_TARGET ? 'met' : 'MISSED'} |`,
      ),
      '',
      `A second payment to 100 recipients who already hold points: ${fmt(repeat.gasUsed)} gas ` +
        `(${fmt(Number(repeat.gasUsed) / 100)} per recipient).`,
      '',
      '### Badges.mintBatch (one badge to each new holder)',
      '',
      '| holders | gas used | gas per additional holder |',
      '|---:|---:|---:|',
      ...badgeMints.map(
        (b, i) =>
          `| ${b.size} | ${fmt(b.gas)} | ${i === 0 ? '' : fmt(Number(b.gas - badgeMints[i - 1]!.gas) / (b.size - badgeMints[i - 1]!.size))} |`,
      ),
      '',
      '### ActivityLog.anchor',
      '',
      '| batch size (count) | gas used | execution (gas used − 21,000 − calldata) |',
      '|---:|---:|---:|',
      ...anchors.map((a) => `| ${fmt(a.count)} | ${fmt(a.gas)} | ${fmt(a.execution)} |`),
      '',
      `Execution gas the same for every batch size: ${anchorConstant ? 'yes' : 'NO'}; ` +
        `total ≤ 80,000: ${anchorOk ? 'met' : 'MISSED'}. The total differs only by the calldata price of the values.`,
      '',
      '### Deployed size',
      '',
      '| contract | runtime bytes (limit 24,576) | deployment gas |',
      '|---|---:|---:|',
      ...sizes.map((s) => `| ${s.name} | ${fmt(s.runtime)} | ${fmt(s.deployGas)} |`),
      '',
    ];
    const section = lines.join('\n');
    process.stdout.write(`${section}\n`);
    if (write) await updateResults(section);
    if (!mintOk || !anchorOk) process.exitCode = 1;
  } finally {
    provider.destroy();
    await node.stop();
  }
}

// Replaces this benchmark's section of bench/RESULTS.md, keeping every other section, and
// formats the file as `prettier --check` (npm run lint) expects.
async function updateResults(section: string): Promise<void> {
  const file = new URL('./RESULTS.md', import.meta.url);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const start = current.indexOf(`${SECTION}\n`);
  let next: string;
  if (start === -1) {
    next = `${current.trimEnd()}\n\n${section}`;
  } else {
    const after = current.indexOf('\n## ', start + SECTION.length);
    next = current.slice(0, start) + section + (after === -1 ? '' : current.slice(after));
  }
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(next, { ...options, parser: 'markdown' }));
}

// Intrinsic gas of a call under London: 21,000 plus 4 per zero and 16 per non-zero calldata byte.
function intrinsicGas(data: string): bigint {
  let gas = 21_000n;
  for (let i = 2; i < data.length; i += 2) gas += data.slice(i, i + 2) === '00' ? 4n : 16n;
  return gas;
}

function osName(): string {
  try {
    const release = readFileSync('/etc/os-release', 'utf8');
    return /^PRETTY_NAME="?([^"\n]+)"?/m.exec(release)?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

await main();
