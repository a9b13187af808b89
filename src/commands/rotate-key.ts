import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import {
  acceptNewHostKeyFlag,
  adapterCommandFlag,
  adapterImageFlag,
  dirFlag,
  dockerSocketFlag,
  dryRunFlag,
  envName,
  keystorePasswordFileFlag,
  pollIntervalMs,
  sshKeyFileFlag,
  systemdUnitDirFlag,
} from '../cli/flags.js';
import { formatRotateKey } from '../cli/output.js';
import { keystorePassword, sshLogin } from '../cli/secrets.js';
import { runTasks } from '../cli/tasks.js';
import { prepareKeyRotation } from '../core/rotate/rotate-key.js';
import type { RotateKeyResult } from '../core/rotate/validator.js';

export default class RotateKey extends BaseCommand {
  static override summary =
    "Replace a validator's node key through IBFT 2.0 voting, or the minter or an admin account key.";

  static override description = `--node NAME: a new node key (or, with --public-key, an HSM-held one) is allowlisted on every node (rolling restarts), then changed in one of two orders over the validators' loopback JSON-RPC (ibft_proposeValidatorVote, more than half of the set; votes discarded afterwards with ibft_discardValidatorVote): in-first votes the new key in, moves the node onto it (key uploaded, node restarted by its runtime) and votes the old key out; out-first votes the old key out, moves the node while it is no validator and votes the new key in. In-first is chosen when it keeps ceil(2N/3) of the validators online at every step (from 5 validators when all are online), out-first otherwise; when neither does, the rotation is refused with exit 5 and both orders' arithmetic. The old enode is then dropped from the allowlists. Before each step the validators are probed and a step that would leave fewer than ceil(2N/3) of the set of that moment online is refused with exit 5, as is any pending vote this rotation did not make. The old key is archived as a V3 keystore (the workspace's keystore password) under .archive/; genesis.json stays as it was (key-rotations.json records its validators).

--account minter|admin: a new keystore is made, the role is granted to it through the transaction node, the adapter is switched to it (when it is deployed: the new keystore and adapter.yaml written into its folder and a SIGHUP, on which it reloads its signer without a restart; the switch waits until its /metrics names the new key), and only then is the old key's role revoked (an admin renounces its own).

Progress is recorded in DIR/rotate-state.json after every step: a re-run after a failure resumes where it stopped. --dry-run prints the order and why, and each step's quorum arithmetic, and touches nothing.`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ./pilot --node pds --dry-run',
    `${envName('keystore_password')}=... <%= config.bin %> <%= command.id %> --dir ./pilot --node pds --ssh-key-file ~/.ssh/deploy_ed25519`,
    `${envName('keystore_password')}=... <%= config.bin %> <%= command.id %> --dir ./pilot --account minter --json`,
  ];

  static override flags = {
    dir: dirFlag(),
    node: Flags.string({
      description: 'The validator node whose node key is replaced.',
      env: envName('node'),
      exactlyOne: ['node', 'account'],
      helpValue: 'NAME',
    }),
    account: Flags.string({
      description:
        'The account whose key is replaced: the minter (the adapter signer) or an organisation admin.',
      env: envName('account'),
      options: ['minter', 'admin'],
      exactlyOne: ['node', 'account'],
    }),
    organisation: Flags.string({
      description:
        'With --account admin: the organisation whose admin key is replaced (default: the only one with a workspace keystore).',
      env: envName('organisation'),
      helpValue: 'NAME',
    }),
    'public-key': Flags.string({
      description:
        'With --node: the new identity is held elsewhere (an HSM); its 128-hex public key. Nothing is generated or uploaded: give the node that key yourself.',
      env: envName('public_key'),
      dependsOn: ['node'],
      helpValue: 'HEX',
    }),
    'dry-run': dryRunFlag(),
    'ssh-key-file': sshKeyFileFlag(),
    'accept-new-host-key': acceptNewHostKeyFlag(),
    'keystore-password-file': keystorePasswordFileFlag(),
    timeout: Flags.integer({
      description:
        'Seconds to wait for a restarted node to make blocks again, for a vote to apply, or for the adapter to take the new minter.',
      env: envName('timeout'),
      default: 180,
      min: 1,
      helpValue: 'SECONDS',
    }),
    'systemd-unit-dir': systemdUnitDirFlag(),
    'docker-socket': dockerSocketFlag(),
    'adapter-command': adapterCommandFlag(
      'With --account minter: the peruri-chain launcher on the service machine (systemd runtime).',
    ),
    'adapter-image': adapterImageFlag(
      "With --account minter: the adapter's image (docker runtime). Default: peruri-chain/adapter:<version>.",
    ),
  };

  async run(): Promise<RotateKeyResult> {
    const { flags } = await this.parse(RotateKey);
    const dryRun = flags['dry-run'];
    const timeoutMs = flags.timeout * 1000;
    const { steps, context } = await prepareKeyRotation({
      dir: flags.dir,
      ...(flags.node ? { node: flags.node } : {}),
      ...(flags.account ? { account: flags.account as 'minter' | 'admin' } : {}),
      ...(flags.organisation ? { organisation: flags.organisation } : {}),
      ...(flags['public-key'] ? { publicKey: flags['public-key'] } : {}),
      dryRun,
      auth: dryRun ? undefined : await sshLogin(flags['ssh-key-file']),
      acceptNewHostKey: flags['accept-new-host-key'],
      password: await keystorePassword(flags['keystore-password-file']),
      timeoutMs,
      pollIntervalMs: pollIntervalMs(timeoutMs, 100),
      systemdUnitDir: flags['systemd-unit-dir'],
      dockerSocket: flags['docker-socket'],
      adapterCommand: flags['adapter-command'],
      ...(flags['adapter-image'] ? { adapterImage: flags['adapter-image'] } : {}),
      signal: this.signal,
    });
    await runTasks(steps, context, { json: this.jsonEnabled(), signal: this.signal });
    const result = context.result!;
    this.warnLater(...result.warnings);
    this.log(formatRotateKey(result));
    return result;
  }
}
