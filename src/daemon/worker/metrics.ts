import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The mirror worker's Prometheus metrics. */
export interface MirrorMetrics {
  /** Batches by outcome: submitted, confirmed, failed. */
  batches: Counter<'outcome'>;
  /** Activities and mints by outcome: confirmed, failed. */
  activities: Counter<'outcome'>;
  /** Broadcasts by the node's answer: accepted, known, transient, rejected. */
  broadcasts: Counter<'outcome'>;
  /** Transactions that had to be signed again, by cause: reverted, replaced, rejected. */
  resigned: Counter<'cause'>;
  /** Time from acceptance (202) to confirmation on-chain. */
  confirmationLatency: Histogram;
  /** Batches submitted and not yet settled. */
  batchesInFlight: Gauge;
  /** The block of the last confirmed batch. */
  lastConfirmedBlock: Gauge;
  /** The last block the balance and badge index has applied. */
  indexedBlock: Gauge;
  /** 1 for the address that signs the worker's transactions now (an info metric). */
  signer: Gauge<'address'>;
  /** Signer reloads (SIGHUP) by outcome: replaced, unchanged, failed. */
  signerReloads: Counter<'outcome'>;
}

/**
 * Registers the worker's metrics.
 * @param registry - the daemon's registry
 * @param prefix - the daemon's metric name prefix
 */
export function createMirrorMetrics(registry: Registry, prefix: string): MirrorMetrics {
  const registers = [registry];
  return {
    batches: new Counter({
      name: `${prefix}batches_total`,
      help: 'Activity batches by outcome.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    activities: new Counter({
      name: `${prefix}activities_settled_total`,
      help: 'Activities and mints settled on-chain, by outcome.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    broadcasts: new Counter({
      name: `${prefix}broadcasts_total`,
      help: 'Transaction broadcasts by the node answer.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    resigned: new Counter({
      name: `${prefix}transactions_resigned_total`,
      help: 'Transactions signed again with a new nonce, by cause.',
      labelNames: ['cause'] as const,
      registers,
    }),
    confirmationLatency: new Histogram({
      name: `${prefix}confirmation_latency_seconds`,
      help: 'Time from an accepted request to its confirmation on-chain.',
      buckets: [0.5, 1, 2, 3, 4, 5, 7.5, 10, 20, 30, 60, 120, 300],
      registers,
    }),
    batchesInFlight: new Gauge({
      name: `${prefix}batches_in_flight`,
      help: 'Batches submitted and not yet settled.',
      registers,
    }),
    lastConfirmedBlock: new Gauge({
      name: `${prefix}last_confirmed_block`,
      help: 'Block number of the last confirmed batch.',
      registers,
    }),
    indexedBlock: new Gauge({
      name: `${prefix}indexed_block`,
      help: 'Last block applied to the balance and badge index.',
      registers,
    }),
    signer: new Gauge({
      name: `${prefix}signer_info`,
      help: "The address that signs the mirror worker's transactions now (value 1).",
      labelNames: ['address'] as const,
      registers,
    }),
    signerReloads: new Counter({
      name: `${prefix}signer_reloads_total`,
      help: 'Signer reloads asked for with SIGHUP, by outcome (replaced, unchanged, failed).',
      labelNames: ['outcome'] as const,
      registers,
    }),
  };
}
