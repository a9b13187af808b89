import { createHash } from 'node:crypto';
import { Decrypter, Encrypter } from 'age-encryption';
import { ErrorCodes, InputError } from '../errors.js';
import {
  FILES_PREFIX,
  MANIFEST_ENTRY,
  MIN_PASSPHRASE_LENGTH,
  SEAL_ENTRY,
  SECRETS_ENTRY,
  SECRET_INDEX_ENTRY,
  SNAPSHOT_FORMAT,
  SNAPSHOT_FORMAT_VERSION,
  formatMode,
  type ManifestFile,
  type SecretIndex,
  type SnapshotManifest,
  type SnapshotSeal,
} from './format.js';
import { TAR_BLOCK, TAR_END, blockSize, encodeTarEntry, readTar, type TarEntry } from './tar.js';

/** One workspace file going into, or coming out of, a snapshot. */
export interface ArchiveFile {
  /** Workspace-relative POSIX path. */
  path: string;
  mode: number;
  data: Buffer;
  /** Goes into the encrypted section. */
  secret: boolean;
}

/** What the manifest says about the snapshot as a whole; the file lists are added when building. */
export type ManifestHead = Omit<SnapshotManifest, 'format' | 'formatVersion' | 'files' | 'secrets'>;

export interface BuildArchiveOptions {
  head: ManifestHead;
  files: ArchiveFile[];
  passphrase: string;
  /** log2 of the scrypt work factor; age's default (18) unless a test needs speed. */
  scryptWorkFactor?: number;
}

export interface BuildArchiveResult {
  bytes: Buffer;
  manifest: SnapshotManifest;
}

/** A snapshot whose structure, seal and plain files were checked; its secrets are still sealed. */
export interface VerifiedArchive {
  manifest: SnapshotManifest;
  /** The plain files, checked against the manifest. */
  plainFiles: ArchiveFile[];
  /** `secrets.age` as stored, checked against the seal. */
  encrypted: Buffer;
  /** SHA-256 of `manifest.json` as stored. */
  manifestSha256: string;
}

/**
 * Hex SHA-256.
 * @param data - bytes
 * @returns 64 lowercase hex characters
 */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Refuses a passphrase too short to protect key material against offline guessing.
 * @param passphrase - the passphrase
 * @param source - where it came from, for the message (never the value)
 * @throws InputError (PC_SECRET_MISSING) when shorter than {@link MIN_PASSPHRASE_LENGTH}
 */
export function assertUsablePassphrase(passphrase: string, source: string): void {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
    throw new InputError(
      ErrorCodes.SECRET_MISSING,
      `The snapshot passphrase from ${source} is too short (${passphrase.length} characters, at least ${MIN_PASSPHRASE_LENGTH} needed)`,
      {
        hint: 'Use a long random passphrase, e.g. `openssl rand -base64 24`, and keep it apart from the snapshot.',
      },
    );
  }
}

/**
 * Builds a snapshot archive in memory (layout and guarantees: see format.ts).
 * @param options - the manifest head, every file, and the passphrase for the secret ones
 * @returns the archive bytes and the manifest written into them
 * @example
 * const { bytes } = await buildArchive({ head, files, passphrase: 'a long passphrase' });
 */
export async function buildArchive(options: BuildArchiveOptions): Promise<BuildArchiveResult> {
  const files = [...options.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const plain = files.filter((file) => !file.secret);
  const secret = files.filter((file) => file.secret);
  const manifest: SnapshotManifest = {
    format: SNAPSHOT_FORMAT,
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    ...options.head,
    files: files.map((file): ManifestFile =>
      file.secret
        ? { path: file.path, mode: formatMode(file.mode), encrypted: true }
        : {
            path: file.path,
            mode: formatMode(file.mode),
            encrypted: false,
            size: file.data.length,
            sha256: sha256(file.data),
          },
    ),
    secrets: { entry: SECRETS_ENTRY, encryption: 'age-scrypt', fileCount: secret.length },
  };
  const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
  const mtime = new Date(Math.floor(Date.parse(options.head.createdAt) / 1000) * 1000);

  const index: SecretIndex = {
    manifestSha256: sha256(manifestBytes),
    files: secret.map((file) => ({
      path: file.path,
      mode: formatMode(file.mode),
      size: file.data.length,
      sha256: sha256(file.data),
    })),
  };
  const inner = Buffer.concat([
    encodeTarEntry(
      { path: SECRET_INDEX_ENTRY, mode: 0o600, data: Buffer.from(JSON.stringify(index)) },
      mtime,
    ),
    ...secret.map((file) =>
      encodeTarEntry({ path: FILES_PREFIX + file.path, mode: file.mode, data: file.data }, mtime),
    ),
    TAR_END,
  ]);
  const encrypter = new Encrypter();
  encrypter.setPassphrase(options.passphrase);
  if (options.scryptWorkFactor !== undefined) encrypter.setScryptWorkFactor(options.scryptWorkFactor);
  const encrypted = Buffer.from(await encrypter.encrypt(inner));

  const plainEntries = plain.map((file) => ({ path: file.path, mode: file.mode, data: file.data }));
  const bytes = assembleArchive({ manifest: manifestBytes, plain: plainEntries, encrypted, mtime });
  return { bytes, manifest };
}

/** The parts of an archive, already encoded. */
export interface ArchiveParts {
  /** `manifest.json` as stored. */
  manifest: Buffer;
  /** Plain workspace files (paths without the `files/` prefix). */
  plain: TarEntry[];
  /** `secrets.age` as stored. */
  encrypted: Buffer;
  /** Time recorded in the tar headers. */
  mtime: Date;
}

/**
 * Lays out the outer tar and seals it: the seal hashes every byte before its own data.
 * @param parts - the encoded entries
 * @returns the archive bytes
 */
export function assembleArchive(parts: ArchiveParts): Buffer {
  const { manifest, encrypted, mtime } = parts;
  const body = Buffer.concat([
    encodeTarEntry({ path: MANIFEST_ENTRY, mode: 0o644, data: manifest }, mtime),
    ...parts.plain.map((file) => encodeTarEntry({ ...file, path: FILES_PREFIX + file.path }, mtime)),
    encodeTarEntry({ path: SECRETS_ENTRY, mode: 0o600, data: encrypted }, mtime),
  ]);
  // The seal's size does not depend on the hashes in it, so its header can be hashed first.
  const sealText = (archive: string) => {
    const seal: SnapshotSeal = {
      sha256: { manifest: sha256(manifest), secrets: sha256(encrypted), archive },
    };
    return Buffer.from(`${JSON.stringify(seal)}\n`);
  };
  const sealSize = sealText('0'.repeat(64)).length;
  const sealHeader = encodeTarEntry(
    { path: SEAL_ENTRY, mode: 0o644, data: Buffer.alloc(sealSize) },
    mtime,
  ).subarray(0, TAR_BLOCK);
  const sealed = Buffer.concat([body, sealHeader]);
  const seal = sealText(sha256(sealed));
  return Buffer.concat([sealed, seal, Buffer.alloc(blockSize(seal.length) - seal.length), TAR_END]);
}

function damaged(source: string, message: string, cause?: unknown): InputError {
  return new InputError(ErrorCodes.SNAPSHOT_INVALID, `${source}: ${message}; nothing was written`, {
    hint: 'The snapshot is damaged or was altered. Restore from another copy of it (compare its SHA-256 with the one `snapshot` printed).',
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Checks everything that needs no passphrase: the tar structure, the seal over every byte, the
 * manifest, and every plain file against its SHA-256. Nothing is written anywhere.
 * @param bytes - the whole archive
 * @param source - its name, for messages
 * @returns the manifest, the plain files and the still encrypted section
 * @throws InputError (PC_SNAPSHOT_INVALID) naming the first entry found damaged
 */
export async function verifyArchive(bytes: Buffer, source: string): Promise<VerifiedArchive> {
  let entries: TarEntry[];
  try {
    entries = await readTar(bytes);
  } catch (error) {
    throw damaged(source, `not a readable snapshot archive: ${(error as Error).message}`, error);
  }
  const first = entries[0];
  const sealEntry = entries.at(-1);
  const secretsEntry = entries.at(-2);
  if (
    entries.length < 3 ||
    first?.path !== MANIFEST_ENTRY ||
    sealEntry?.path !== SEAL_ENTRY ||
    secretsEntry?.path !== SECRETS_ENTRY
  ) {
    throw damaged(
      source,
      `not a peruri-chain snapshot: expected ${MANIFEST_ENTRY}, files, ${SECRETS_ENTRY} and ${SEAL_ENTRY}, found ${entries
        .slice(0, 3)
        .map((entry) => entry.path)
        .join(', ')}${entries.length > 3 ? ', ...' : ''}`,
    );
  }
  const middle = entries.slice(1, -2);
  const stray = middle.find((entry) => !entry.path.startsWith(FILES_PREFIX));
  if (stray) throw damaged(source, `unexpected entry "${stray.path}"`);

  const seal = parseSeal(sealEntry.data);
  if (!seal) throw damaged(source, `${SEAL_ENTRY} is damaged`);
  const manifestSha256 = sha256(first.data);
  if (manifestSha256 !== seal.sha256.manifest) throw damaged(source, `${MANIFEST_ENTRY}: checksum mismatch`);
  const manifest = parseManifest(first.data, source);

  const listed = new Map(manifest.files.filter((file) => !file.encrypted).map((file) => [file.path, file]));
  const plainFiles: ArchiveFile[] = [];
  const seen = new Set<string>();
  for (const entry of middle) {
    const path = entry.path.slice(FILES_PREFIX.length);
    const file = listed.get(path);
    if (!file) throw damaged(source, `${entry.path}: not listed in ${MANIFEST_ENTRY}`);
    if (seen.has(path)) throw damaged(source, `${entry.path}: stored twice`);
    if (entry.data.length !== file.size || sha256(entry.data) !== file.sha256) {
      throw damaged(source, `${entry.path}: checksum mismatch`);
    }
    seen.add(path);
    plainFiles.push({ path, mode: parseInt(file.mode, 8), data: entry.data, secret: false });
  }
  const missing = [...listed.keys()].find((path) => !seen.has(path));
  if (missing !== undefined)
    throw damaged(source, `${FILES_PREFIX}${missing}: listed in ${MANIFEST_ENTRY} but missing`);
  if (sha256(secretsEntry.data) !== seal.sha256.secrets)
    throw damaged(source, `${SECRETS_ENTRY}: checksum mismatch`);

  // The seal covers every byte before its data; after it come only zero padding and the end blocks.
  const sealDataOffset = bytes.length - TAR_END.length - blockSize(sealEntry.data.length);
  const tail = bytes.subarray(sealDataOffset + sealEntry.data.length);
  if (
    sealDataOffset <= 0 ||
    !bytes.subarray(sealDataOffset, sealDataOffset + sealEntry.data.length).equals(sealEntry.data) ||
    tail.some((byte) => byte !== 0) ||
    sha256(bytes.subarray(0, sealDataOffset)) !== seal.sha256.archive
  ) {
    throw damaged(source, `bytes outside the entries (tar headers or padding) do not match ${SEAL_ENTRY}`);
  }
  return { manifest, plainFiles, encrypted: secretsEntry.data, manifestSha256 };
}

/**
 * Opens the encrypted section with the passphrase and checks it: the index must vouch for this
 * very manifest, and every secret file must match its SHA-256 and the manifest's list.
 * @param verified - what {@link verifyArchive} returned
 * @param passphrase - the snapshot passphrase
 * @param source - the archive's name, for messages
 * @returns the secret files with their plaintext
 * @throws InputError (PC_SNAPSHOT_PASSPHRASE_WRONG) for a wrong passphrase, (PC_SNAPSHOT_INVALID)
 * for anything altered
 */
export async function decryptArchive(
  verified: VerifiedArchive,
  passphrase: string,
  source: string,
): Promise<ArchiveFile[]> {
  const decrypter = new Decrypter();
  decrypter.addPassphrase(passphrase);
  let inner: Uint8Array;
  try {
    inner = await decrypter.decrypt(verified.encrypted);
  } catch (error) {
    // The ciphertext matched the seal, so an unopenable section means another passphrase.
    if (/no identity matched/i.test((error as Error).message)) {
      throw new InputError(
        ErrorCodes.SNAPSHOT_PASSPHRASE_WRONG,
        `${source}: the passphrase does not open ${SECRETS_ENTRY}; nothing was written`,
        {
          hint: 'Give the passphrase the snapshot was taken with (PERURI_CHAIN_SNAPSHOT_PASSPHRASE or --passphrase-file).',
        },
      );
    }
    throw damaged(source, `${SECRETS_ENTRY} cannot be decrypted: ${(error as Error).message}`, error);
  }
  let entries: TarEntry[];
  try {
    entries = await readTar(Buffer.from(inner));
  } catch (error) {
    throw damaged(source, `${SECRETS_ENTRY} holds no readable archive: ${(error as Error).message}`, error);
  }
  const [indexEntry, ...secretEntries] = entries;
  const index = indexEntry?.path === SECRET_INDEX_ENTRY ? parseIndex(indexEntry.data) : undefined;
  if (!index) throw damaged(source, `${SECRETS_ENTRY}: its ${SECRET_INDEX_ENTRY} is missing or damaged`);
  if (index.manifestSha256 !== verified.manifestSha256) {
    throw damaged(source, `${MANIFEST_ENTRY}: does not match the encrypted index (it was altered)`);
  }
  const expected = verified.manifest.files.filter((file) => file.encrypted);
  const described = (files: { path: string; mode: string }[]) =>
    files.map((file) => `${file.path}:${file.mode}`).join('\n');
  if (described(expected) !== described(index.files) || secretEntries.length !== index.files.length) {
    throw damaged(source, `${SECRETS_ENTRY}: its files differ from those ${MANIFEST_ENTRY} lists`);
  }
  return secretEntries.map((entry, position) => {
    const file = index.files[position]!;
    if (
      entry.path !== FILES_PREFIX + file.path ||
      entry.data.length !== file.size ||
      sha256(entry.data) !== file.sha256
    ) {
      throw damaged(source, `${SECRETS_ENTRY}: ${FILES_PREFIX}${file.path}: checksum mismatch`);
    }
    return { path: file.path, mode: parseInt(file.mode, 8), data: entry.data, secret: true };
  });
}

/**
 * True for a workspace-relative POSIX path that stays inside the workspace.
 * @param path - a path from an archive
 */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || /[\\\0]/.test(path)) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

const HEX64 = /^[0-9a-f]{64}$/;

function parseJson(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseSeal(data: Buffer): SnapshotSeal | undefined {
  const seal = parseJson(data);
  if (!isRecord(seal) || !isRecord(seal.sha256)) return undefined;
  const { manifest, secrets, archive } = seal.sha256;
  return [manifest, secrets, archive].every((hash) => typeof hash === 'string' && HEX64.test(hash))
    ? (seal as unknown as SnapshotSeal)
    : undefined;
}

function isMode(value: unknown): value is string {
  return typeof value === 'string' && /^[0-7]{4}$/.test(value);
}

function parseManifest(data: Buffer, source: string): SnapshotManifest {
  const manifest = parseJson(data);
  if (!isRecord(manifest) || manifest.format !== SNAPSHOT_FORMAT) {
    throw damaged(source, `${MANIFEST_ENTRY} does not describe a peruri-chain snapshot`);
  }
  if (manifest.formatVersion !== SNAPSHOT_FORMAT_VERSION) {
    throw new InputError(
      ErrorCodes.SNAPSHOT_INVALID,
      `${source}: snapshot format version ${String(manifest.formatVersion)} is not supported (this peruri-chain reads version ${SNAPSHOT_FORMAT_VERSION}); nothing was written`,
      {
        hint: `Restore it with the peruri-chain version that took it (${String(manifest.peruriChainVersion)}) or a newer one.`,
      },
    );
  }
  const files = manifest.files;
  const valid =
    typeof manifest.network === 'string' &&
    Number.isInteger(manifest.chainId) &&
    typeof manifest.createdAt === 'string' &&
    typeof manifest.sourceDir === 'string' &&
    Array.isArray(manifest.chainData) &&
    isRecord(manifest.database) &&
    Array.isArray(files) &&
    files.every(
      (file: unknown) =>
        isRecord(file) &&
        typeof file.path === 'string' &&
        isSafeRelativePath(file.path) &&
        isMode(file.mode) &&
        (file.encrypted === true ||
          (file.encrypted === false &&
            Number.isInteger(file.size) &&
            typeof file.sha256 === 'string' &&
            HEX64.test(file.sha256))),
    ) &&
    new Set(files.map((file: { path: string }) => file.path)).size === files.length;
  if (!valid) throw damaged(source, `${MANIFEST_ENTRY} is malformed`);
  return manifest as unknown as SnapshotManifest;
}

function parseIndex(data: Buffer): SecretIndex | undefined {
  const index = parseJson(data);
  if (!isRecord(index) || typeof index.manifestSha256 !== 'string' || !Array.isArray(index.files))
    return undefined;
  const valid = index.files.every(
    (file: unknown) =>
      isRecord(file) &&
      typeof file.path === 'string' &&
      isSafeRelativePath(file.path) &&
      isMode(file.mode) &&
      Number.isInteger(file.size) &&
      typeof file.sha256 === 'string',
  );
  return valid ? (index as unknown as SecretIndex) : undefined;
}
