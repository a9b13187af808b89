/** Workspace-relative paths; the one place that knows how a workspace is laid out. */
export const SPEC_FILE = 'network.yaml';
export const ARCHIVE_DIR = '.archive';
export const DEV_PASSWORD_FILE = 'secrets/dev-keystore-password';
export const DEPLOYER_KEYSTORE = 'accounts/deployer.json';
export const MINTER_KEYSTORE = 'service/minter.json';
/** The adapter's wallet master secret: a 32-byte seed in a V3 keystore (see init.ts). */
export const WALLET_MASTER_KEYSTORE = 'service/wallet-master.json';

/** Path of a node's private key file. */
export function nodeKeyFile(nodeName: string): string {
  return `nodes/${nodeName}/key`;
}

/** Path of the keystore of an organisation's generated admin account. */
export function adminKeystore(organisation: string): string {
  return `accounts/admin-${organisation}.json`;
}

/** A timestamp usable in a folder name, e.g. 2026-11-24T13-05-09Z. */
export function archiveStamp(now: Date = new Date()): string {
  return now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}
/** The machines' SSH host keys (OpenSSH known_hosts format), checked on every connection. */
export const KNOWN_HOSTS_FILE = 'known_hosts';
/** What `deploy` put on which machine, written after every step so a re-run resumes. */
export const DEPLOY_STATE_FILE = 'deploy-state.json';
/** Completed key rotations and the genesis validators they started from (public, kept forever). */
export const KEY_ROTATIONS_FILE = 'key-rotations.json';
/** The key rotation under way, written after every step so a re-run resumes. */
export const ROTATE_STATE_FILE = 'rotate-state.json';
/** New key material of a rotation under way, until it replaces the old (0700, files 0600). */
export const ROTATION_DIR = '.rotation';
