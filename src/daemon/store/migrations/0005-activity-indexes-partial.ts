/**
 * The activities' two worker indexes hold only the rows the worker looks for.
 *
 * `activities_status_created` (status, created_at) held every activity ever taken, and each one
 * moved in it twice (queued → submitted → confirmed): two deletes and two inserts per activity,
 * into an index that only ever answered for the queue. `activities_queued` (created_at, id) holds
 * the queued rows alone: the claim removes an entry, the confirmation touches nothing, and it is as
 * small as the backlog. It serves the claim's `status = 'queued' ... ORDER BY created_at, id` and
 * the queue depth's count (both name `status = 'queued'` literally, which a partial index needs).
 *
 * `activities_batch` (batch_id) held a NULL entry for every queued activity, put in by intake and
 * taken out by the claim; now it holds rows in a batch only (`batch_id = ?` implies NOT NULL, so
 * the confirmation and failure of a batch still find their rows through it).
 */

export const version = 5;
export const name = 'activity-indexes-partial';

const indexes = `
DROP INDEX activities_status_created;
DROP INDEX activities_batch;
CREATE INDEX activities_queued ON activities (created_at, id) WHERE status = 'queued';
CREATE INDEX activities_batch ON activities (batch_id) WHERE batch_id IS NOT NULL;
`;

export const sqlite = indexes;
export const postgres = indexes;
