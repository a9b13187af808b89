import { Flags } from '@oclif/core';

import { envName } from './env-name.js';

export { envName };

/** `--dir`: the workspace folder, the same on every command. */
export const dirFlag = (description = 'Workspace folder.') =>
  Flags.directory({ description, env: envName('dir'), default: '.', helpValue: 'DIR' });

/** `--dry-run`: show what would change and change nothing. */
export const dryRunFlag = () =>
  Flags.boolean({
    description: 'Print the plan and change nothing.',
    env: envName('dry_run'),
    default: false,
  });

/** `--force`: the one way to let a command replace keys or an existing workspace. */
export const forceFlag = (description: string) =>
  Flags.boolean({ description, env: envName('force'), default: false });

/**
 * `--keystore-password-file`: the keystore password comes from this file or from the
 * environment, never from a flag value that would land in shell history.
 */
export const keystorePasswordFileFlag = () =>
  Flags.file({
    description: `File holding the account keystore password (default: the ${envName('keystore_password')} environment variable).`,
    env: envName('keystore_password_file'),
    exists: true,
    helpValue: 'FILE',
  });

/** `--ssh-key-file`: the deploy key; without it the ssh-agent in SSH_AUTH_SOCK is used. */
export const sshKeyFileFlag = () =>
  Flags.file({
    description: `Private key to log in to the machines with (default: the ssh-agent in SSH_AUTH_SOCK). Its passphrase, if any, comes from ${envName('ssh_key_passphrase')}.`,
    env: envName('ssh_key_file'),
    exists: true,
    helpValue: 'FILE',
  });

/** `--accept-new-host-key`: trust on first use, recorded in the workspace; never a changed key. */
export const acceptNewHostKeyFlag = () =>
  Flags.boolean({
    description:
      "Trust a machine's SSH host key met for the first time and record it in the workspace's known_hosts (a changed key is always refused).",
    env: envName('accept_new_host_key'),
    default: false,
  });

/** `--systemd-unit-dir`: where unit files live on systemd machines. */
export const systemdUnitDirFlag = () =>
  Flags.string({
    description: 'Folder of systemd unit files on the machines.',
    env: envName('systemd_unit_dir'),
    default: '/etc/systemd/system',
    helpValue: 'DIR',
  });

/** `--docker-socket`: the Docker engine's socket on the machines, reached through SSH. */
export const dockerSocketFlag = () =>
  Flags.string({
    description: "The Docker engine's unix socket on the machines (forwarded over SSH, never exposed).",
    env: envName('docker_socket'),
    default: '/var/run/docker.sock',
    helpValue: 'PATH',
  });

/** `--health-timeout`: how long a command waits for what it started to become healthy. */
export const healthTimeoutFlag = (description: string) =>
  Flags.integer({ description, env: envName('health_timeout'), default: 180, min: 1, helpValue: 'SECONDS' });

/** `--adapter-command`: the peruri-chain launcher the service machine's unit runs (systemd runtime). */
export const adapterCommandFlag = (description: string) =>
  Flags.string({
    description,
    env: envName('adapter_command'),
    default: '/usr/local/bin/peruri-chain',
    helpValue: 'PATH',
  });

/** `--adapter-image`: the adapter's image on the service machine (docker runtime). */
export const adapterImageFlag = (description: string) =>
  Flags.string({ description, env: envName('adapter_image'), helpValue: 'IMAGE' });

/**
 * How often to poll while waiting up to `timeoutMs`: `polls` times over the wait, between 100 ms
 * and 1 s apart.
 */
export function pollIntervalMs(timeoutMs: number, polls = 20): number {
  return Math.min(1_000, Math.max(100, timeoutMs / polls));
}
