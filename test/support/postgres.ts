import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, onTestFinished } from 'vitest';
import { declareMissing } from './requirement.js';

/** The machine's PostgreSQL as an administrator reaches it (trust auth on loopback). */
export const POSTGRES_ADMIN_URL =
  process.env.PERURI_CHAIN_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The PostgreSQL database of one test file. */
export interface TestPostgres {
  /** Name of the file's database. */
  database(): string;
  /**
   * A fresh, empty schema in the file's database for the current test, dropped when it finishes.
   * @returns a postgres:// URL whose connections use that schema
   */
  aSchemaUrl(): Promise<string>;
  /** Runs one statement as the administrator in the file's database (to inspect or tamper). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
}

/**
 * Declares a suite that runs against the machine's PostgreSQL in a database made for this test
 * file (created before its tests, dropped after). When PostgreSQL cannot be reached the suite is
 * skipped with the reason printed, except in CI (CI=true), where that fails.
 * @param title - suite title
 * @param body - declares the tests, given the file's database
 */
export function describeWithPostgres(title: string, body: (postgres: TestPostgres) => void): void {
  describe(title, async () => {
    const reason = await unreachable();
    if (reason) {
      declareMissing(title, 'PostgreSQL', reason);
      return;
    }
    const name = `peruri_test_${randomBytes(6).toString('hex')}`;
    const url = withDatabase(POSTGRES_ADMIN_URL, name);
    beforeAll(() => admin(POSTGRES_ADMIN_URL, `CREATE DATABASE ${name}`));
    afterAll(() => admin(POSTGRES_ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    body({
      database: () => name,
      aSchemaUrl: async () => {
        const schema = `t_${randomBytes(6).toString('hex')}`;
        await admin(url, `CREATE SCHEMA ${schema}`);
        onTestFinished(() => admin(url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`).then(() => undefined));
        const schemaUrl = new URL(url);
        schemaUrl.searchParams.set('options', `-c search_path=${schema}`);
        return schemaUrl.toString();
      },
      query: (sql, params) => admin(url, sql, params),
    });
  });
}

async function unreachable(): Promise<string | undefined> {
  try {
    await admin(POSTGRES_ADMIN_URL, 'SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL is not reachable at ${POSTGRES_ADMIN_URL} (${(error as Error).message}); set PERURI_CHAIN_TEST_POSTGRES_URL to point elsewhere`;
  }
}

async function admin<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params?: unknown[],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
