import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, InputError } from '../errors.js';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * True when the bytes start like an SQLite 3 database file.
 * @param head - the first bytes of a file (16 are enough)
 */
export function looksLikeSqlite(head: Buffer): boolean {
  return head.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC);
}

/**
 * Copies an SQLite database that may be in use, consistently: SQLite's online backup API
 * (https://sqlite.org/backup.html, through better-sqlite3's `backup()`) copies every page in one
 * step under one read transaction, so the copy is the database as of one commit, whatever writers
 * do meanwhile (in WAL mode they are not even blocked). The copy goes to a private scratch folder
 * and is removed once read.
 * @param path - the database file
 * @param label - its workspace-relative path, for messages
 * @returns the bytes of the consistent copy
 * @throws InputError (PC_WORKSPACE_INVALID) when the file cannot be opened or copied as a database
 */
export async function backupSqlite(path: string, label: string): Promise<Buffer> {
  const scratch = await mkdtemp(join(tmpdir(), 'peruri-snapshot-db-'));
  let database: Database.Database | undefined;
  try {
    database = new Database(path, { readonly: true, fileMustExist: true });
    database.pragma('busy_timeout = 5000');
    const copy = join(scratch, 'copy.db');
    // better-sqlite3 passes the progress callback's number to sqlite3_backup_step: the largest
    // value copies all remaining pages in that step (0 would copy none, forever).
    await database.backup(copy, { progress: () => 0x7fffffff });
    return await readFile(copy);
  } catch (error) {
    throw new InputError(ErrorCodes.WORKSPACE_INVALID, `${label}: cannot take a copy of the database`, {
      details: [(error as Error).message],
      hint: 'Check that the file is an SQLite database and readable by this user.',
      cause: error,
    });
  } finally {
    database?.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
