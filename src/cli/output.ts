import type { IbftExtraData } from '../core/genesis/extra-data.js';
import type { RotateKeyResult } from '../core/rotate/validator.js';
import type { InitWorkspaceResult } from '../core/workspace/init.js';
import type { RerenderWorkspaceResult } from '../core/workspace/rerender.js';
import type { ValidateWorkspaceResult } from '../core/workspace/validate.js';

/** Human summary of `init`. */
export function formatInit(result: InitWorkspaceResult): string {
  const width = Math.max(...result.nodes.map((node) => node.name.length));
  const lines = [
    `Created workspace ${result.dir} for network ${result.network} (chain id ${result.chainId}), ${result.files.length} files.`,
    ...(result.archivedTo ? [`The previous workspace, keys included, is in ${result.archivedTo}.`] : []),
    '',
    'Nodes:',
    ...result.nodes.map((node) =>
      `  ${node.name.padEnd(width)}  ${node.role.padEnd(9)}  ${node.address}  ${node.identity === 'imported' ? '(imported identity: no key file)' : ''}`.trimEnd(),
    ),
    '',
    'Accounts:',
    `  deployer  ${result.accounts.deployer}`,
    `  minter    ${result.accounts.minter}`,
    ...Object.entries(result.accounts.admins).map(
      ([organisation, admin]) =>
        `  admin of ${organisation}: ${admin.address}${admin.generated ? ' (generated)' : ''}`,
    ),
    '',
    `Next: peruri-chain validate --dir ${result.dir}`,
  ];
  return lines.join('\n');
}

/** Human summary of `validate`. */
export function formatValidate(result: ValidateWorkspaceResult): string {
  return [
    `Workspace ${result.dir} is valid: network ${result.network} (chain id ${result.chainId}), ${result.nodes} nodes, ${result.filesChecked} generated files up to date.`,
    `Validators (genesis order): ${result.validators.join(', ')}`,
  ].join('\n');
}

/** Human summary of `render`. */
export function formatRerender(result: RerenderWorkspaceResult): string {
  const verb = result.dryRun ? 'would be' : '';
  const section = (title: string, paths: string[]) =>
    paths.length === 0 ? [] : [`${title}:`, ...paths.map((path) => `  ${path}`)];
  const changed = result.created.length + result.updated.length + result.removed.length;
  return [
    changed === 0
      ? `Nothing to change: every generated file of ${result.dir} is up to date.`
      : `${result.dryRun ? 'Dry run: nothing written. ' : ''}${changed} file(s) ${verb || 'were'} changed in ${result.dir}.`.replace(
          '  ',
          ' ',
        ),
    ...section('Created', result.created),
    ...section('Updated', result.updated),
    ...section('Removed', result.removed),
    ...section('New keys', result.generatedKeys),
    ...section('Archived keys', result.archivedKeys),
  ].join('\n');
}

/** Human form of decoded extraData: one field per line. */
export function formatExtraData(decoded: IbftExtraData): string {
  return [
    `vanity:     ${decoded.vanity}`,
    `validators: ${decoded.validators.length === 0 ? '(none)' : decoded.validators.join('\n            ')}`,
    `vote:       ${decoded.vote ? `${decoded.vote.type} ${decoded.vote.recipient}` : '(none)'}`,
    `round:      ${decoded.round}`,
    `seals:      ${decoded.seals.length === 0 ? '(none)' : decoded.seals.join('\n            ')}`,
  ].join('\n');
}

type DeployWorkspaceContractsResult =
  import('../core/contracts/deploy-workspace.js').DeployWorkspaceContractsResult;

/** Human summary of `contracts deploy`: one row per contract. */
export function formatContractsDeploy(result: DeployWorkspaceContractsResult): string {
  const rows = [
    ['contract', 'address', 'status'],
    ...result.contracts.map((contract) => [contract.name, contract.address, contract.status]),
  ];
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  const table = rows.map((row) =>
    `  ${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]}`.trimEnd(),
  );
  const sent = result.transactionsSent;
  return [
    result.dryRun
      ? `Dry run: nothing sent. Plan for chain ${result.chainId} at ${result.rpcUrl}, deployer ${result.deployer}:`
      : `Contracts on chain ${result.chainId} at ${result.rpcUrl}, deployer ${result.deployer} (${sent} transaction${sent === 1 ? '' : 's'} sent):`,
    ...table,
    ...(result.recordFile ? ['', `Recorded in ${result.dir}/${result.recordFile}`] : []),
  ].join('\n');
}

type SnapshotWorkspaceResult = import('../core/snapshot/snapshot.js').SnapshotWorkspaceResult;
type RestoreSnapshotResult = import('../core/snapshot/restore.js').RestoreSnapshotResult;

/** Human summary of `snapshot`. */
export function formatSnapshot(result: SnapshotWorkspaceResult): string {
  return [
    `Snapshot of ${result.network} (chain id ${result.chainId}) written to ${result.path}`,
    `  ${result.fileCount} files, ${result.encryptedFileCount} of them encrypted; ${result.size} bytes`,
    `  SHA-256 ${result.sha256}`,
    `  adapter database: ${result.databases.length > 0 ? result.databases.join(', ') : 'none in the workspace'}`,
    `  chain data: ${result.chainData.length > 0 ? result.chainData.join(', ') : 'not included'}`,
    '',
    'Keep the passphrase apart from the archive: without it the keys cannot be restored.',
  ].join('\n');
}

/** Human summary of `restore`. */
export function formatRestore(result: RestoreSnapshotResult): string {
  const moved = result.movedNode;
  return [
    result.dryRun
      ? `Dry run: nothing written. The snapshot is intact and the passphrase opens it; ${result.fileCount} files would be restored to ${result.dir}.`
      : `Restored ${result.network} (chain id ${result.chainId}) to ${result.dir}: ${result.fileCount} files, ${result.encryptedFileCount} decrypted.`,
    `  snapshot taken ${result.createdAt} by peruri-chain ${result.peruriChainVersion}`,
    ...(result.archivedTo ? [`  the previous workspace, keys included, is in ${result.archivedTo}`] : []),
    ...(moved ? [`  node ${moved.name}: host ${moved.from} -> ${moved.to}`] : []),
    ...(result.rerendered.length > 0
      ? [`  re-rendered for ${moved ? 'the new host' : 'this folder'}: ${result.rerendered.join(', ')}`]
      : []),
    ...(result.validated ? ['  the workspace validates'] : []),
    ...(result.pushed
      ? [
          `  node ${result.pushed.node} put onto ${result.pushed.machine} (${result.pushed.dir}) and making blocks (height ${result.pushed.blockNumber})`,
        ]
      : []),
    ...(moved && !result.dryRun && !result.pushed
      ? ['', `Next: peruri-chain deploy --dir ${result.dir} puts node ${moved.name} onto ${moved.to}.`]
      : []),
  ].join('\n');
}

type UpLocalStackResult = import('../core/local/up.js').UpLocalStackResult;
type StopStackResult = import('../core/local/down.js').StopStackResult;

/**
 * The curl command that posts one activity to the local adapter with the given token: what `up`
 * prints for trying the stack, and what its end-to-end test does.
 * @param adapterUrl - the adapter's URL
 * @param token - a bearer token
 * @param occurredAt - the activity's time (RFC 3339)
 */
export function trackActivityCurl(adapterUrl: string, token: string, occurredAt: string): string {
  const body = JSON.stringify({ userId: 'user-1', type: 'quiz.completed', occurredAt, points: '25' });
  return [
    `curl -sS -X POST ${adapterUrl}/activity/track`,
    `  -H "Authorization: Bearer ${token}"`,
    `  -H 'Content-Type: application/json'`,
    `  -H "Idempotency-Key: try-$(date +%s)"`,
    `  -d '${body}'`,
  ].join(' \\\n');
}

/** Human summary of `up`: where everything answers, the token and a line to try it. */
export function formatUp(result: UpLocalStackResult, now: Date = new Date()): string {
  const started = result.processes.filter((p) => p.status === 'started').map((p) => p.name);
  const kept = result.processes.filter((p) => p.status === 'kept').map((p) => p.name);
  const what = [
    ...(started.length > 0 ? [`started ${started.join(', ')}`] : []),
    ...(kept.length > 0 ? [`kept ${kept.join(', ')} (already running)`] : []),
  ].join('; ');
  const contracts = Object.entries(result.contracts);
  const width = Math.max(
    ...['adapter', 'chain', ...contracts.map(([name]) => name)].map((name) => name.length),
  );
  const row = (name: string, value: string) => `  ${name.padEnd(width)}  ${value}`;
  const lines = [
    `The local stack of ${result.network} (chain id ${result.chainId}) runs: ${what}.`,
    '',
    row('adapter', result.adapterUrl),
    row('chain', `${result.rpcUrl} (${result.engine})`),
    ...contracts.map(([name, address]) => row(name, address)),
  ];
  if (result.token) {
    const occurredAt = now.toISOString().replace(/\.\d+Z$/, 'Z');
    lines.push(
      '',
      `A token for this local stack only, valid until ${result.tokenExpiresAt}:`,
      `  ${result.token}`,
      '',
      'Post an activity, then follow it with GET /activity/<id> (same header):',
      trackActivityCurl(result.adapterUrl, result.token, occurredAt),
    );
  }
  lines.push(
    '',
    `Logs and state in ${result.dir}/${result.localDir}; stop it all with: peruri-chain down --dir ${result.dir}`,
  );
  return lines.join('\n');
}

/** Human summary of `down`. */
export function formatDown(result: StopStackResult): string {
  if (result.processes.length === 0) return `Nothing to stop: no local stack runs for ${result.dir}.`;
  const described = result.processes.map((process) => {
    switch (process.outcome) {
      case 'stopped':
        return `  ${process.name} (pid ${process.pid}) stopped`;
      case 'killed':
        return `  ${process.name} (pid ${process.pid}) did not stop in time and was killed`;
      default:
        return `  ${process.name} (pid ${process.pid}) was not running any more`;
    }
  });
  return [`Stopped the local stack of ${result.dir}:`, ...described].join('\n');
}

type DeployResult = import('../core/deploy/deploy.js').DeployResult;
type StatusResult = import('../core/status/status.js').StatusResult;

/** Columns padded to their widest cell, two spaces apart, each line indented by two. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    `  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ')}`.trimEnd(),
  );
}

/** Human summary of `deploy`: one line per step with its outcome. */
export function formatDeploy(result: DeployResult): string {
  // A plan is read before it runs: it says what each step does; a run says what came of it.
  const rows = [
    ['step', 'machine', 'outcome', ...(result.dryRun ? ['what'] : [])],
    ...result.steps.map((step) => [
      `${step.subject}: ${step.kind}`,
      step.machine,
      step.detail ? `${step.outcome} (${step.detail})` : step.outcome,
      ...(result.dryRun ? [step.action] : []),
    ]),
  ];
  const head = result.dryRun
    ? `Dry run: nothing touched. Plan for ${result.network} (${result.scope}), from the workspace and ${'deploy-state.json'}; ${result.changes} step(s) would change something:`
    : result.changes === 0
      ? `${result.network} (${result.scope}): nothing to change; every machine already holds this workspace.`
      : `${result.network} (${result.scope}): ${result.changes} step(s) changed something.`;
  return [
    head,
    ...table(rows),
    ...(result.stateFile ? ['', `Recorded in ${result.dir}/${result.stateFile}`] : []),
  ].join('\n');
}

/** Human view of `status`: nodes, contracts and adapter as tables, then every problem. */
export function formatStatus(result: StatusResult): string {
  const show = (value: number | string | boolean | null): string =>
    value === null ? '-' : typeof value === 'boolean' ? (value ? 'yes' : 'NO') : String(value);
  const nodes = table([
    ['node', 'role', 'machine', 'ssh', 'runtime', 'state', 'height', 'lag', 'peers', 'validators', 'health'],
    ...result.nodes.map((node) => [
      node.name,
      node.role,
      node.machine,
      node.reachable ? 'ok' : 'NO',
      node.runtime,
      show(node.state),
      show(node.blockNumber),
      show(node.lag),
      show(node.peers),
      node.role === 'tx'
        ? '-'
        : node.validatorsMatch === null
          ? '?'
          : node.validatorsMatch
            ? `${node.validators!.length} as spec`
            : 'DIFFER',
      node.healthy ? 'ok' : 'UNHEALTHY',
    ]),
  ]);
  const contracts = table([
    ['contract', 'address', 'health'],
    ...result.contracts.map((contract) => [
      contract.name,
      show(contract.address),
      contract.healthy ? 'ok' : 'UNHEALTHY',
    ]),
  ]);
  const { adapter } = result;
  const adapterRows = table([
    [
      'adapter',
      'ssh',
      'state',
      `ready (${adapter.readyCheck})`,
      'queue',
      'last batch block',
      'rabbitmq',
      'health',
    ],
    [
      adapter.machine,
      adapter.reachable ? 'ok' : 'NO',
      show(adapter.state),
      adapter.ready ? 'ok' : 'NO',
      show(adapter.queueDepth),
      show(adapter.lastConfirmedBlock),
      adapter.amqpConnected === null ? '-' : adapter.amqpConnected ? 'ok' : 'NO',
      adapter.healthy ? 'ok' : 'UNHEALTHY',
    ],
  ]);
  return [
    `${result.network} (chain id ${result.chainId}): ${result.healthy ? 'healthy' : `${result.problems.length} problem(s)`}`,
    '',
    ...nodes,
    '',
    ...contracts,
    '',
    ...adapterRows,
    ...(result.problems.length > 0
      ? ['', 'Problems:', ...result.problems.map((problem) => `  - ${problem}`)]
      : []),
  ].join('\n');
}

/** Human view of `rotate-key`: the order and why, the steps with their quorum arithmetic, then where the old key went. */
export function formatRotateKey(result: RotateKeyResult): string {
  const arithmetic = (step: RotateKeyResult['steps'][number]): string => {
    const quorum = step.quorum;
    if (!quorum) return '';
    const { tightest } = quorum;
    const votes =
      quorum.votesNeeded !== undefined
        ? `; floor(${quorum.setSize}/2)+1 = ${quorum.votesNeeded} votes needed, proposed on ${quorum.voters?.join(', ') || '-'}`
        : '';
    return `N = ${quorum.setSize} -> ${quorum.setSizeAfter}; ${tightest.when}: ${tightest.online} of ${tightest.setSize} online, ceil(2·${tightest.setSize}/3) = ${tightest.quorum} needed${votes}`;
  };
  const rows = [
    ['step', 'outcome', ...(result.kind === 'validator' ? ['quorum'] : []), 'what'],
    ...result.steps.map((step) => [
      step.id,
      step.detail ? `${step.outcome} (${step.detail})` : step.outcome,
      ...(result.kind === 'validator' ? [arithmetic(step)] : []),
      step.action,
    ]),
  ];
  const subject = result.kind === 'validator' ? `validator ${result.subject}` : result.subject;
  const head = result.dryRun
    ? `Dry run: nothing touched. Rotating ${subject} from ${result.oldAddress} to ${result.newAddress ?? 'a new key (made when the rotation starts)'}${result.validators ? `, ${result.validators} validators` : ''}:`
    : `Rotated ${subject}: ${result.oldAddress} -> ${result.newAddress ?? '?'}.`;
  const order = result.order
    ? [
        `Order: ${result.order} (${result.order === 'in-first' ? 'new key in, node moved, old key out' : 'old key out, node moved, new key in'}): ${result.orderReason ?? ''}`,
      ]
    : [];
  return [
    head,
    ...order,
    ...table(rows),
    ...(result.archivedKey
      ? ['', `The old key is archived, encrypted, in ${result.dir}/${result.archivedKey}`]
      : []),
  ].join('\n');
}
