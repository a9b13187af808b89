import * as initial from './0001-initial.js';
import * as mirrorOutbox from './0002-mirror-outbox.js';
import * as activityRefNotIndexed from './0003-activity-ref-not-indexed.js';
import * as auditHashNotIndexed from './0004-audit-hash-not-indexed.js';
import * as activityIndexesPartial from './0005-activity-indexes-partial.js';

/** One schema change, numbered once for both databases. */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

/** Every migration in order; a new one is a new file `NNNN-what.ts` added at the end. */
export const MIGRATIONS: readonly Migration[] = [
  initial,
  mirrorOutbox,
  activityRefNotIndexed,
  auditHashNotIndexed,
  activityIndexesPartial,
];
