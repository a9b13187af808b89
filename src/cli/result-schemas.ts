/**
 * JSON Schemas of every command's `--json` result (the `result` member of the envelope). CI
 * pipelines script against these shapes, so a test runs each command and validates its output:
 * a change of shape is a deliberate edit here, never an accident.
 */
const address = { type: 'string', pattern: '^0x[0-9a-f]{40}$' } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;

const object = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

export const envelopeSchema = object(
  {
    status: { type: 'integer' },
    result: {},
    error: object(
      { code: { type: 'string' }, message: { type: 'string' }, hint: { type: 'string' }, details: strings },
      ['code', 'message', 'details'],
    ),
    warnings: strings,
  },
  ['status', 'warnings'],
);

export const resultSchemas: Record<string, object> = {
  init: object(
    {
      dir: { type: 'string' },
      network: { type: 'string' },
      chainId: { type: 'integer' },
      nodes: {
        type: 'array',
        items: object({
          name: { type: 'string' },
          role: { enum: ['validator', 'tx'] },
          organisation: { type: 'string' },
          address,
          enode: { type: 'string', pattern: '^enode://[0-9a-f]{128}@' },
          identity: { enum: ['generated', 'imported'] },
        }),
      },
      accounts: object({
        deployer: address,
        minter: address,
        admins: { type: 'object', additionalProperties: object({ address, generated: { type: 'boolean' } }) },
      }),
      files: strings,
      devPasswordFile: { type: 'string' },
      archivedTo: { type: 'string' },
      warnings: strings,
    },
    ['dir', 'network', 'chainId', 'nodes', 'accounts', 'files', 'warnings'],
  ),
  validate: object({
    dir: { type: 'string' },
    network: { type: 'string' },
    chainId: { type: 'integer' },
    validators: { type: 'array', items: address },
    nodes: { type: 'integer' },
    filesChecked: { type: 'integer' },
    warnings: strings,
  }),
  render: object({
    dir: { type: 'string' },
    dryRun: { type: 'boolean' },
    created: strings,
    updated: strings,
    removed: strings,
    unchanged: { type: 'integer' },
    generatedKeys: strings,
    archivedKeys: strings,
    warnings: strings,
  }),
  'genesis extradata --validators': object({
    extraData: { type: 'string', pattern: '^0x[0-9a-f]+$' },
    validators: { type: 'array', items: address },
  }),
  'genesis extradata --decode': object(
    {
      vanity: { type: 'string', pattern: '^0x[0-9a-f]{64}$' },
      validators: { type: 'array', items: address },
      vote: object({ recipient: address, type: { enum: ['ADD', 'DROP'] } }),
      round: { type: 'integer', minimum: 0 },
      seals: { type: 'array', items: { type: 'string', pattern: '^0x[0-9a-f]{130}$' } },
    },
    ['vanity', 'validators', 'round', 'seals'],
  ),
  'contracts deploy': object({
    dir: { type: 'string' },
    chainId: { type: 'integer' },
    rpcUrl: { type: 'string' },
    deployer: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
    dryRun: { type: 'boolean' },
    contracts: {
      type: 'array',
      items: object({
        name: { enum: ['PointsToken', 'Badges', 'ActivityLog'] },
        status: { enum: ['deployed', 'verified', 'would deploy', 'would verify'] },
        address: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
        txHash: { type: ['string', 'null'] },
        blockNumber: { type: ['integer', 'null'] },
        bytecodeHash: { type: ['string', 'null'] },
      }),
    },
    transactionsSent: { type: 'integer' },
    recordFile: { type: ['string', 'null'] },
    warnings: strings,
  }),
  snapshot: object({
    path: { type: 'string' },
    size: { type: 'integer' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    fileCount: { type: 'integer' },
    encryptedFileCount: { type: 'integer' },
    network: { type: 'string' },
    chainId: { type: 'integer' },
    createdAt: { type: 'string' },
    databases: strings,
    chainData: strings,
    warnings: strings,
  }),
  restore: object(
    {
      file: { type: 'string' },
      dir: { type: 'string' },
      dryRun: { type: 'boolean' },
      network: { type: 'string' },
      chainId: { type: 'integer' },
      createdAt: { type: 'string' },
      peruriChainVersion: { type: 'string' },
      fileCount: { type: 'integer' },
      encryptedFileCount: { type: 'integer' },
      databases: strings,
      chainData: strings,
      archivedTo: { type: 'string' },
      movedNode: object({ name: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } }),
      rerendered: strings,
      validated: { type: 'boolean' },
      warnings: strings,
    },
    [
      'file',
      'dir',
      'dryRun',
      'network',
      'chainId',
      'createdAt',
      'peruriChainVersion',
      'fileCount',
      'encryptedFileCount',
      'databases',
      'chainData',
      'rerendered',
      'validated',
      'warnings',
    ],
  ),
  deploy: object({
    dir: { type: 'string' },
    network: { type: 'string' },
    scope: { enum: ['all', 'nodes', 'contracts', 'adapter'] },
    dryRun: { type: 'boolean' },
    steps: {
      type: 'array',
      items: object(
        {
          id: { type: 'string' },
          kind: {
            enum: ['node-folder', 'node-runtime', 'health', 'contracts', 'adapter-folder', 'adapter-runtime'],
          },
          subject: { type: 'string' },
          machine: { type: 'string' },
          action: { type: 'string' },
          outcome: { enum: ['changed', 'unchanged', 'checked', 'would change', 'no change', 'would check'] },
          detail: { type: 'string' },
        },
        ['id', 'kind', 'subject', 'machine', 'action', 'outcome'],
      ),
    },
    changes: { type: 'integer', minimum: 0 },
    stateFile: { type: ['string', 'null'] },
    warnings: strings,
  }),
  status: object({
    dir: { type: 'string' },
    network: { type: 'string' },
    chainId: { type: 'integer' },
    healthy: { type: 'boolean' },
    nodes: {
      type: 'array',
      items: object({
        name: { type: 'string' },
        role: { enum: ['validator', 'tx'] },
        machine: { type: 'string' },
        reachable: { type: 'boolean' },
        runtime: { enum: ['docker', 'systemd'] },
        state: { type: ['string', 'null'] },
        blockNumber: { type: ['integer', 'null'] },
        peers: { type: ['integer', 'null'] },
        validators: { type: ['array', 'null'], items: address },
        validatorsMatch: { type: ['boolean', 'null'] },
        lag: { type: ['integer', 'null'] },
        healthy: { type: 'boolean' },
        problems: strings,
      }),
    },
    contracts: {
      type: 'array',
      items: object({
        name: { enum: ['PointsToken', 'Badges', 'ActivityLog'] },
        address: { type: ['string', 'null'] },
        deployed: { type: 'boolean' },
        healthy: { type: 'boolean' },
        problems: strings,
      }),
    },
    adapter: object({
      machine: { type: 'string' },
      reachable: { type: 'boolean' },
      state: { type: ['string', 'null'] },
      ready: { type: 'boolean' },
      readyCheck: { enum: ['/ready', '/health'] },
      queueDepth: { type: ['integer', 'null'] },
      lastConfirmedBlock: { type: ['integer', 'null'] },
      healthy: { type: 'boolean' },
      problems: strings,
    }),
    problems: strings,
  }),
  // Printed once the daemon listens; it then stays in the foreground.
  'adapter start': object({ url: { type: 'string' }, network: { type: 'string' } }),
  'adapter reindex': object({
    balancesCleared: { type: 'integer', minimum: 0 },
    badgeHoldingsCleared: { type: 'integer', minimum: 0 },
    previousCursor: { type: 'integer', minimum: -1 },
  }),
  // Printed once every part answers; the stack keeps running in the background.
  up: object({
    dir: { type: 'string' },
    network: { type: 'string' },
    chainId: { type: 'integer' },
    engine: { enum: ['anvil', 'besu'] },
    adapterUrl: { type: 'string', pattern: '^https?://' },
    rpcUrl: { type: 'string', pattern: '^https?://' },
    token: { type: ['string', 'null'], pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' },
    tokenExpiresAt: { type: ['string', 'null'] },
    contracts: object({
      PointsToken: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
      Badges: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
      ActivityLog: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
    }),
    transactionsSent: { type: 'integer' },
    processes: {
      type: 'array',
      items: object({
        name: { type: 'string' },
        role: { enum: ['chain', 'adapter'] },
        pid: { type: 'integer' },
        status: { enum: ['started', 'kept'] },
        logFile: { type: 'string' },
      }),
    },
    archivedTo: { type: ['string', 'null'] },
    localDir: { type: 'string' },
    warnings: strings,
  }),
  down: object({
    dir: { type: 'string' },
    processes: {
      type: 'array',
      items: object({
        name: { type: 'string' },
        role: { enum: ['chain', 'adapter'] },
        pid: { type: 'integer' },
        outcome: { enum: ['stopped', 'killed', 'not running'] },
      }),
    },
  }),
};
