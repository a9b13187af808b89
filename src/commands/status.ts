import { Flags } from '@oclif/core';
import { BaseCommand, type JsonEnvelope } from '../cli/base-command.js';
import { ExitCodes } from '../cli/exit-codes.js';
import {
  acceptNewHostKeyFlag,
  dirFlag,
  dockerSocketFlag,
  envName,
  sshKeyFileFlag,
  systemdUnitDirFlag,
} from '../cli/flags.js';
import { formatStatus } from '../cli/output.js';
import { adapterJwtSecret, sshLogin } from '../cli/secrets.js';
import { ErrorCodes, RemoteError } from '../core/errors.js';
import { networkStatus, type StatusResult } from '../core/status/status.js';

export default class Status extends BaseCommand {
  static override summary = 'Show the health of every node, the contracts and the adapter.';

  static override description = `Per node: SSH reachable, container or unit state, block height, lag behind the highest node, peers and (validators) whether the on-chain validator set equals the spec's; the contracts at their recorded addresses; the adapter's readiness and queue depth. JSON-RPC and the adapter are reached through SSH port forwarding, so nothing needs to be exposed.

Exit code 4 when anything is unhealthy; with --json the full result is printed all the same (status 4 in the envelope).`;

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dir ./pilot',
    '<%= config.bin %> <%= command.id %> --dir ./pilot --ssh-key-file ~/.ssh/deploy_ed25519 --json',
  ];

  static override flags = {
    dir: dirFlag(),
    'ssh-key-file': sshKeyFileFlag(),
    'accept-new-host-key': acceptNewHostKeyFlag(),
    'systemd-unit-dir': systemdUnitDirFlag(),
    'docker-socket': dockerSocketFlag(),
    'adapter-jwt-secret-file': Flags.file({
      description: `File holding the adapter's JWT secret (default: the ${envName('adapter_jwt_secret')} environment variable); with it, the adapter's readiness (database and chain) is checked, without it only its liveness.`,
      env: envName('adapter_jwt_secret_file'),
      exists: true,
      helpValue: 'FILE',
    }),
  };

  async run(): Promise<StatusResult> {
    const { flags } = await this.parse(Status);
    const result = await networkStatus({
      dir: flags.dir,
      auth: await sshLogin(flags['ssh-key-file']),
      acceptNewHostKey: flags['accept-new-host-key'],
      systemdUnitDir: flags['systemd-unit-dir'],
      dockerSocket: flags['docker-socket'],
      jwtSecret: await adapterJwtSecret(flags['adapter-jwt-secret-file']),
      signal: this.signal,
    });
    this.log(formatStatus(result));
    if (!result.healthy && !this.jsonEnabled()) {
      throw new RemoteError(
        ErrorCodes.NETWORK_UNHEALTHY,
        `${result.problems.length} problem(s) in ${result.network}`,
        {
          hint: 'See the problems above; re-run `peruri-chain deploy` to repair what deploy puts in place.',
        },
      );
    }
    if (!result.healthy) process.exitCode = ExitCodes.remoteFailed;
    return result;
  }

  // CI reads the whole result even when something is unhealthy; the status says it failed.
  protected override toSuccessJson(result: unknown): JsonEnvelope<unknown> {
    const envelope = super.toSuccessJson(result);
    return (result as StatusResult).healthy ? envelope : { ...envelope, status: ExitCodes.remoteFailed };
  }
}
