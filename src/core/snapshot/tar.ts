import { Header, Parser, Pax, type ReadEntry } from 'tar';

/** One regular file in a tar archive held in memory. */
export interface TarEntry {
  path: string;
  mode: number;
  data: Buffer;
}

/** Tar works in 512-byte blocks. */
export const TAR_BLOCK = 512;

/** Two zero blocks end a tar archive (POSIX.1-2001 ustar). */
export const TAR_END = Buffer.alloc(2 * TAR_BLOCK);

/**
 * Rounds a byte count up to whole tar blocks.
 * @param size - bytes
 * @returns the padded size
 */
export function blockSize(size: number): number {
  return Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

/**
 * Encodes one regular file as tar blocks: a pax extended header when the path does not fit ustar,
 * the ustar header, the data and its zero padding. Owner ids and names are left empty: they mean
 * nothing on the machine a snapshot is restored on.
 * @param entry - path, mode and content
 * @param mtime - the time recorded in the header (whole seconds)
 * @returns the encoded blocks
 */
export function encodeTarEntry(entry: TarEntry, mtime: Date): Buffer {
  const fields = {
    path: entry.path,
    mode: entry.mode,
    size: entry.data.length,
    mtime,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
  };
  const header = new Header({ ...fields, type: 'File' });
  const needPax = header.encode();
  const pax = needPax ? new Pax(fields).encode() : Buffer.alloc(0);
  return Buffer.concat([
    pax,
    header.block!,
    entry.data,
    Buffer.alloc(blockSize(entry.data.length) - entry.data.length),
  ]);
}

/**
 * Parses a whole tar archive strictly (node-tar): any header failing its checksum, any entry that
 * is not a regular file, a truncated body, or anything but zero blocks at the end is an error.
 * @param archive - the archive bytes
 * @returns the entries in archive order
 * @throws Error with node-tar's message and, when known, the entry after which parsing failed
 */
export function readTar(archive: Buffer): Promise<TarEntry[]> {
  return new Promise((resolve, reject) => {
    const entries: TarEntry[] = [];
    let failed = false;
    const fail = (message: string) => {
      if (failed) return;
      failed = true;
      const after = entries.at(-1)?.path;
      reject(new Error(after ? `${message} (after entry "${after}")` : `${message} (at the start)`));
    };
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (entry.type !== 'File') {
          fail(`unexpected ${entry.type} entry "${entry.path}"`);
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        const slot: TarEntry = { path: entry.path, mode: entry.mode ?? 0, data: Buffer.alloc(0) };
        entries.push(slot);
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        entry.on('end', () => {
          slot.data = Buffer.concat(chunks);
          if (slot.data.length !== entry.size) fail(`entry "${entry.path}" is truncated`);
        });
      },
    });
    parser.on('error', (error: Error) => fail(error.message));
    parser.on('warn', (_code: string, message: string | Error) =>
      fail(typeof message === 'string' ? message : message.message),
    );
    parser.on('end', () => {
      if (!failed) resolve(entries);
    });
    parser.end(archive);
  });
}
