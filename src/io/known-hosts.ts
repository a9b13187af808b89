import { createHash, createHmac } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What a known-hosts file says about the key a server presented. */
export type HostKeyCheck =
  | { status: 'known' }
  | { status: 'unknown' }
  /** The host is recorded with other keys: every recorded one, as `type SHA256:…`. */
  | { status: 'changed'; recorded: string[] }
  /** The key is marked `@revoked`. */
  | { status: 'revoked' };

interface KnownHostLine {
  marker: '@revoked' | '@cert-authority' | undefined;
  patterns: string;
  type: string;
  key: Buffer;
}

/**
 * The name OpenSSH writes for a host in known_hosts: the lower-cased host alone on port 22,
 * `[host]:port` otherwise.
 * @param host - a host name or address
 * @param port - the SSH port
 * @returns the known_hosts host field
 */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/**
 * The SHA-256 fingerprint of a public key as OpenSSH prints it (`ssh-keygen -lf`).
 * @param key - the key in SSH wire format (what a server sends, the base64 field of known_hosts)
 * @returns `SHA256:` followed by unpadded base64
 */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The algorithm name at the start of an SSH wire-format public key (`ssh-ed25519`, `ssh-rsa`, …).
 * @param key - the key in SSH wire format
 * @returns its type name, or `unknown` for a malformed key
 */
export function hostKeyType(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  if (length > 64 || 4 + length > key.length) return 'unknown';
  return key.subarray(4, 4 + length).toString('latin1');
}

/**
 * Looks a server's key up in a known-hosts file (OpenSSH format: plain or hashed host names,
 * `*`/`?` patterns, `!` negation, `@revoked`; `@cert-authority` lines are not trusted for plain keys).
 * A missing file knows no host.
 * @param file - the known_hosts file
 * @param host - the host as connected to
 * @param port - the SSH port
 * @param key - the key the server presented, in SSH wire format
 * @returns known, unknown, changed (with the recorded fingerprints) or revoked
 */
export async function checkHostKey(
  file: string,
  host: string,
  port: number,
  key: Buffer,
): Promise<HostKeyCheck> {
  const lines = await readKnownHosts(file);
  const name = knownHostsName(host, port);
  const forHost = lines.filter((line) => hostMatches(line.patterns, name));
  if (forHost.some((line) => line.marker === '@revoked' && line.key.equals(key)))
    return { status: 'revoked' };
  const plain = forHost.filter((line) => line.marker === undefined);
  if (plain.some((line) => line.key.equals(key))) return { status: 'known' };
  if (plain.length === 0) return { status: 'unknown' };
  return { status: 'changed', recorded: plain.map((line) => `${line.type} ${hostKeyFingerprint(line.key)}`) };
}

/**
 * The key types recorded for a host, so the SSH client can ask the server for one of those first
 * (as OpenSSH does) and a server with several host keys is not mistaken for a changed one.
 * @param file - the known_hosts file
 * @param host - the host
 * @param port - the SSH port
 * @returns the recorded key types, in file order, without repeats
 */
export async function recordedHostKeyTypes(file: string, host: string, port: number): Promise<string[]> {
  const name = knownHostsName(host, port);
  const types = (await readKnownHosts(file))
    .filter((line) => line.marker === undefined && hostMatches(line.patterns, name))
    .map((line) => line.type);
  return [...new Set(types)];
}

/**
 * Appends a host's key to a known-hosts file (one line, `[host]:port` for ports other than 22),
 * creating the file and its folder if needed.
 * @param file - the known_hosts file
 * @param host - the host as connected to
 * @param port - the SSH port
 * @param key - the key in SSH wire format
 */
export async function recordHostKey(file: string, host: string, port: number, key: Buffer): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const existing = await readFile(file, 'utf8').catch(() => '');
  const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
  const line = `${knownHostsName(host, port)} ${hostKeyType(key)} ${key.toString('base64')}\n`;
  await appendFile(file, separator + line, { mode: 0o644 });
}

async function readKnownHosts(file: string): Promise<KnownHostLine[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines: KnownHostLine[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    const marker = fields[0] === '@revoked' || fields[0] === '@cert-authority' ? fields.shift() : undefined;
    const [patterns, type, base64] = fields;
    if (patterns === undefined || type === undefined || base64 === undefined) continue;
    lines.push({
      marker: marker as KnownHostLine['marker'],
      patterns,
      type,
      key: Buffer.from(base64, 'base64'),
    });
  }
  return lines;
}

// OpenSSH's rules (sshd(8) SSH_KNOWN_HOSTS FILE FORMAT): a hashed entry is |1|salt|HMAC-SHA1(salt,
// name); otherwise a comma-separated list of patterns where any negated match excludes the host.
function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (salt === undefined || hash === undefined) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  let matched = false;
  for (const pattern of patterns.split(',')) {
    const negated = pattern.startsWith('!');
    if (!wildcardMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function wildcardMatches(pattern: string, name: string): boolean {
  const regex = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`).test(name);
}
