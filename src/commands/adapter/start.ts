import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { envName } from '../../cli/flags.js';

/** What `adapter start --json` prints once listening. */
export interface AdapterStartResult {
  url: string;
  network: string;
}

export default class AdapterStart extends BaseCommand {
  static override summary = 'Run the adapter daemon in the foreground.';

  static override description = `Serves the adapter's HTTP API (wallets, activity intake, mints) until SIGTERM or SIGINT, then stops taking requests (503), lets requests in flight finish within http.shutdownTimeoutMs, closes the database and exits 0. This is what the service machine's systemd unit or container runs.

SIGHUP reloads the signer: the configuration file is read again and, when its signer section names another key, that keystore is opened and signs from the next batch on, while what the old key signed is still settled (how rotate-key switches the minter without downtime). A failed reload is logged and keeps the running signer; other changed settings wait for a restart.

The configuration is the service/adapter.yaml that init writes. Secrets are never in it: the keystore password comes from the variable it names (${envName('keystore_password')} by default), the JWT secret or public key likewise. The log is JSON lines on stderr. Once listening, the URL is printed on stdout; with --json, one {status, result: {url, network}, warnings} document is printed then, and nothing at exit.`;

  static override examples = [
    `${envName('keystore_password')}=... PERURI_CHAIN_ADAPTER_JWT_SECRET=... <%= config.bin %> <%= command.id %> --config /opt/peruri-chain/service/adapter.yaml`,
  ];

  static override flags = {
    config: Flags.file({
      description: 'The adapter configuration (service/adapter.yaml of the workspace).',
      env: envName('config'),
      required: true,
      exists: true,
      helpValue: 'FILE',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AdapterStart);
    // SIGHUP reloads the signer once the daemon listens; before that it is ignored (the
    // configuration is being read anyway), never Node's default of exiting.
    let reloadSigner: (() => Promise<unknown>) | undefined;
    const onHangup = () => {
      // A failed reload is logged by the daemon and leaves the running signer in place.
      reloadSigner?.().catch(() => undefined);
    };
    process.on('SIGHUP', onHangup);
    try {
      // Loaded here, not at the top: fastify, the database drivers and ethers would slow every command.
      const { startDaemon } = await import('../../daemon/main.js');
      await startDaemon({
        configFile: flags.config,
        signal: this.signal,
        onListening: ({ url, network, reloadSigner: reload }) => {
          reloadSigner = reload;
          const result: AdapterStartResult = { url, network };
          if (this.jsonEnabled()) this.logJson(this.toSuccessJson(result));
          else this.log(`Adapter of ${network} listening on ${url}`);
        },
      });
    } finally {
      process.off('SIGHUP', onHangup);
    }
  }
}
