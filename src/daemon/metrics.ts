import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from './store/types.js';
import { createMirrorMetrics, type MirrorMetrics } from './worker/metrics.js';

/** The daemon's Prometheus metrics, in a registry of its own (never prom-client's global one). */
export interface DaemonMetrics {
  registry: Registry;
  /** Accepted intake requests by kind (activity, mint) and outcome (created, replayed, conflict). */
  intake: Counter<'kind' | 'outcome'>;
  /** Request latency by method, route pattern and status. */
  requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  mirror: MirrorMetrics;
}

/**
 * Creates the metrics. Queue depth and the store's write and commit counts are read from the
 * store when Prometheus scrapes, so they cost nothing on the request path.
 * @param store - the store to read queue depth and write counters from
 * @param options - `processMetrics` adds Node's process metrics (memory, event loop, GC)
 */
export function createMetrics(store: Store, options: { processMetrics: boolean }): DaemonMetrics {
  const registry = new Registry();
  const prefix = 'peruri_adapter_';
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix });
  const intake = new Counter({
    name: `${prefix}intake_total`,
    help: 'Intake requests answered, by kind and outcome.',
    labelNames: ['kind', 'outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: `${prefix}queue_depth`,
    help: 'Activities and mints waiting for the mirror worker.',
    registers: [registry],
    async collect() {
      this.set(await store.queueDepth());
    },
  });
  new Gauge({
    name: `${prefix}store_writes`,
    help: 'Write transactions requested since start.',
    registers: [registry],
    collect() {
      this.set(store.stats().writes);
    },
  });
  new Gauge({
    name: `${prefix}store_commits`,
    help: 'Database commits since start (with group commit, fewer than writes).',
    registers: [registry],
    collect() {
      this.set(store.stats().commits);
    },
  });
  const requestDuration = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: 'HTTP request latency.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, intake, requestDuration, mirror: createMirrorMetrics(registry, prefix) };
}
