import { execa } from 'execa';
import { expect, it } from 'vitest';
import type { UpLocalStackResult } from '../../src/core/local/up.js';
import { runCli } from '../support/cli.js';
import { aLocalWorkspace, anvilMissing } from '../support/local-stack.js';
import { describeRequiring } from '../support/requirement.js';

// The newcomer's first minute: `up`, then the curl line it prints, then the activity on-chain.

async function curlMissing(): Promise<string | undefined> {
  const probe = await execa('curl', ['--version'], { reject: false });
  return probe.exitCode === 0 ? undefined : 'curl is not installed';
}

/** The curl command `up` prints: from its first line to the line that no longer continues. */
function printedCurl(stdout: string): string {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.startsWith('curl '));
  expect(start, stdout).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, index) => index >= start && !line.endsWith('\\'));
  return lines.slice(start, end + 1).join('\n');
}

describeRequiring(
  'up, then the printed curl line',
  'anvil from @foundry-rs/anvil and curl',
  anvilMissing() ?? (await curlMissing()),
  () => {
    it('puts the posted activity on-chain: GET /activity/:id says confirmed within 60 s', async () => {
      // Given a running local stack, started the way the README says
      const ws = await aLocalWorkspace();
      const human = await runCli(['up', '--dir', ws.dir]);
      expect(human.exitCode, human.stderr).toBe(0);

      // When the printed curl line is run in a shell
      const posted = await execa('sh', ['-c', printedCurl(human.stdout)], { reject: false });

      // Then the adapter accepted the activity
      expect(posted.exitCode, posted.stderr).toBe(0);
      const accepted = JSON.parse(posted.stdout) as { id: string; status: string };
      expect(accepted.status).toBe('queued');

      // And the mirror worker confirms it on the chain within a minute
      const again = JSON.parse((await runCli(['up', '--dir', ws.dir, '--json'])).stdout) as {
        result: UpLocalStackResult;
      };
      const auth = { authorization: `Bearer ${again.result.token}` };
      const deadline = Date.now() + 60_000;
      let activity: { status: string; txHashes?: string[] } = { status: 'unknown' };
      while (Date.now() < deadline) {
        const response = await fetch(`${ws.adapterUrl}/activity/${accepted.id}`, { headers: auth });
        expect(response.status).toBe(200);
        activity = (await response.json()) as typeof activity;
        if (activity.status === 'confirmed' || activity.status === 'failed') break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      expect(activity.status).toBe('confirmed');
      expect(activity.txHashes?.length).toBeGreaterThanOrEqual(2); // the anchor and the points mint
      for (const hash of activity.txHashes ?? []) expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    }, 120_000);
  },
);
