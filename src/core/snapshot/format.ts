/**
 * The snapshot archive, format 1. One uncompressed POSIX tar file whose entries come in this order:
 *
 * | entry | content |
 * |---|---|
 * | `manifest.json` | plain JSON: what the snapshot holds (see {@link SnapshotManifest}) |
 * | `files/<path>` | every workspace file that holds no secret, as it was |
 * | `secrets.age` | an age file (scrypt passphrase recipient) whose plaintext is a tar of `index.json` (see {@link SecretIndex}) and `files/<path>` for every secret file |
 * | `seal.json` | SHA-256 of `manifest.json` and of every archive byte before this entry's data (see {@link SnapshotSeal}) |
 *
 * Only a secrets section is encrypted, not the whole archive, so that an operator or an auditor can
 * read what a snapshot is (network, chain id, time, file list, public configuration) without the
 * passphrase: `tar -xOf FILE manifest.json`. Everything that would let someone act as a node or an
 * account is in `secrets.age`: node keys, account and service keystores, `secrets/*`, any file
 * private to its owner (mode without group/other bits), and the adapter database (it holds user ids
 * and activity payloads, which stay off-chain and so must not leak through a backup either).
 *
 * Integrity and authenticity:
 * - every plain file's SHA-256 is in the manifest; the seal holds the SHA-256 of the manifest and
 *   of `secrets.age` as stored, so a damaged encrypted section is told apart from a wrong passphrase;
 * - the seal's archive hash covers every byte before its data (tar headers and padding included)
 *   and the reader checks that only zero padding follows it, so a changed byte anywhere is found;
 * - inside the encrypted section, the index holds the SHA-256 of `manifest.json` and of every
 *   secret file's plaintext. age authenticates it with the passphrase, so whoever lacks the
 *   passphrase cannot alter any entry without restore noticing.
 * The plaintext hashes of secret files are only in the encrypted index: a plain SHA-256 of a short
 * secret (a password in `secrets/`) could be guessed offline without going through scrypt.
 */
export const SNAPSHOT_FORMAT = 'peruri-chain-snapshot';
/** Bumped on any change a format-1 reader would misread; restore refuses versions it does not know. */
export const SNAPSHOT_FORMAT_VERSION = 1;

/** The manifest's entry name, first in the archive. */
export const MANIFEST_ENTRY = 'manifest.json';
/** Prefix of workspace files' entry names, in the archive and inside `secrets.age`. */
export const FILES_PREFIX = 'files/';
/** The encrypted section's entry name. */
export const SECRETS_ENTRY = 'secrets.age';
/** The seal's entry name, last in the archive. */
export const SEAL_ENTRY = 'seal.json';
/** The index's entry name inside `secrets.age`. */
export const SECRET_INDEX_ENTRY = 'index.json';

/** The smallest passphrase accepted for a new snapshot. */
export const MIN_PASSPHRASE_LENGTH = 12;

/**
 * A mode as the manifest writes it.
 * @param mode - permission bits
 * @returns four octal digits, e.g. "0600"
 */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** One workspace file as the manifest lists it. */
export interface ManifestFile {
  /** Workspace-relative POSIX path. */
  path: string;
  /** Unix permission bits the file had (and gets back on restore), four octal digits: "0600". */
  mode: string;
  /** True when the file is inside `secrets.age`; its size and hash are then in the encrypted index. */
  encrypted: boolean;
  /** Byte size (plain files only). */
  size?: number;
  /** SHA-256 of the content, hex (plain files only). */
  sha256?: string;
}

/** How the adapter's database was taken, or why there is none. */
export type ManifestDatabase =
  { present: true; paths: string[]; method: 'sqlite-online-backup' } | { present: false; reason: string };

/** `manifest.json`: readable without the passphrase, holds no secret. */
export interface SnapshotManifest {
  format: typeof SNAPSHOT_FORMAT;
  formatVersion: number;
  /** ISO 8601 time the snapshot was taken. */
  createdAt: string;
  /** Version of peruri-chain that wrote it. */
  peruriChainVersion: string;
  network: string;
  chainId: number;
  /** Absolute path of the workspace it was taken from (restore re-renders when the path differs). */
  sourceDir: string;
  /** Every file, plain and encrypted, sorted by path. */
  files: ManifestFile[];
  secrets: {
    entry: typeof SECRETS_ENTRY;
    /** How it is encrypted: age with a scrypt passphrase recipient. */
    encryption: 'age-scrypt';
    fileCount: number;
  };
  database: ManifestDatabase;
  /** Nodes whose `data/` folder is included. */
  chainData: string[];
}

/** One secret file as the encrypted index lists it. */
export interface SecretIndexFile {
  path: string;
  /** Four octal digits, as in the manifest. */
  mode: string;
  size: number;
  sha256: string;
}

/** `index.json` inside `secrets.age`. */
export interface SecretIndex {
  /** SHA-256 of `manifest.json` exactly as stored: authenticates the plain part. */
  manifestSha256: string;
  files: SecretIndexFile[];
}

/** `seal.json`, the archive's last entry. */
export interface SnapshotSeal {
  sha256: {
    /** SHA-256 of `manifest.json` as stored. */
    manifest: string;
    /** SHA-256 of `secrets.age` as stored (ciphertext). */
    secrets: string;
    /** SHA-256 of every archive byte before the seal's data. */
    archive: string;
  };
}
