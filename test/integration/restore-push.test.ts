import { appendFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { dockerdForSuite, dockerdUnavailable } from '../support/dockerd.js';
import { describeRequiring } from '../support/requirement.js';
import { BESU_THAT_STOPS, aRotationBed } from '../support/rotation-bed.js';
import { aRunningSshd, sshdUnavailable } from '../support/sshd.js';
import { aTempDir } from '../support/temp-dir.js';

// The machines, the Docker engine and the Besu stand-in are described in test/support/rotation-bed.ts:
// real sshd, dockerd, CLI and anvil; Besu's JSON-RPC and IBFT 2.0 are the besu-front model.

const unavailable = sshdUnavailable() ?? dockerdUnavailable();

describeRequiring(
  'restore --node --host --push onto a new machine',
  'OpenSSH server and Docker engine',
  unavailable,
  () => {
    const dockerd = dockerdForSuite([BESU_THAT_STOPS]);

    it("puts the moved node's folder onto the new machine, starts it, and it makes blocks again", async () => {
      // Given a running network and a snapshot of its workspace
      const bed = await aRotationBed(dockerd());
      await bed.deployNodes();
      const root = await aTempDir('peruri-restore-push-');
      const env = { PERURI_CHAIN_SNAPSHOT_PASSPHRASE: 'a snapshot passphrase 42' };
      const snapshot = await runCli(
        ['snapshot', '--dir', bed.dir, '--out', join(root, 'ws.snapshot'), '--json'],
        { env },
      );
      expect(snapshot.exitCode, snapshot.stderr).toBe(0);

      // And machine c, which ran validator-3, is lost with its folder
      const unit = `besu-${bed.network}-validator-3.service`;
      await execa(join(bed.systemd.binDir, 'systemctl'), ['stop', unit], {
        env: { ...process.env, ...bed.systemd.env },
      });
      await bed.machines.c.stop();
      await rm(join(bed.installDir, 'nodes/validator-3'), { recursive: true, force: true });
      const v3 = bed.followed.fronts.get('validator-3')!;
      const address = v3.address;
      await expect.poll(() => v3.running).toBe(false);

      // And a new machine at 127.0.0.2 (same SSH port) takes its place
      const fresh = await aRunningSshd({
        env: bed.systemd.env,
        listenAddress: '127.0.0.2',
        port: bed.machines.c.port,
      });
      await appendFile(
        join(fresh.dir, 'authorized_keys'),
        await readFile(`${bed.machines.a.clientKeyFile}.pub`),
      );

      // When the snapshot is restored with validator-3 moved there and pushed
      const dir = join(root, 'restored');
      const restore = await runCli(
        [
          'restore',
          join(root, 'ws.snapshot'),
          '--dir',
          dir,
          '--node',
          'validator-3',
          '--host',
          '127.0.0.2',
          '--push',
          '--accept-new-host-key',
          '--health-timeout',
          '60',
          ...bed.flags,
          '--json',
        ],
        { env },
      );
      expect(restore.exitCode, restore.stdout + restore.stderr).toBe(0);
      const result = (
        JSON.parse(restore.stdout) as {
          result: {
            pushed: { node: string; machine: string; outcome: string; blockNumber: number };
            movedNode: { to: string };
            validated: boolean;
          };
          warnings: string[];
        }
      ).result;
      // Then the node was put onto the new machine and runs there, as the same validator
      expect(result.movedNode.to).toBe('127.0.0.2');
      expect(result.validated).toBe(true);
      expect(result.pushed).toMatchObject({
        node: 'validator-3',
        machine: `127.0.0.2:${fresh.port}`,
        outcome: 'changed',
      });
      const config = await readFile(join(bed.installDir, 'nodes/validator-3/config.toml'), 'utf8');
      expect(config).toContain('p2p-host="127.0.0.2"');
      expect(await readFile(join(bed.installDir, 'nodes/validator-3/key'), 'utf8')).toBe(
        await readFile(join(dir, 'nodes/validator-3/key'), 'utf8'),
      );
      expect(v3.running).toBe(true);
      expect(v3.address).toBe(address);
      // And the restored workspace records the new machine and trusts its host key from now on
      const state = JSON.parse(await readFile(join(dir, 'deploy-state.json'), 'utf8')) as {
        nodes: Record<string, { machine: string }>;
      };
      expect(state.nodes['validator-3']!.machine).toBe(`127.0.0.2:${fresh.port}`);
      expect(await readFile(join(dir, 'known_hosts'), 'utf8')).toContain(`[127.0.0.2]:${fresh.port}`);
      // And the operator is told that the other nodes' allowlists must follow
      expect(JSON.parse(restore.stdout).warnings.join('\n')).toContain('deploy --only nodes');
    }, 240_000);
  },
);
