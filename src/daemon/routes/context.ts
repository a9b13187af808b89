import type { AmqpStatus } from '../intake/amqp-intake.js';
import type { DaemonMetrics } from '../metrics.js';
import type { ActivityService } from '../services/activities.js';
import type { ChainProbe } from '../services/chain-probe.js';
import type { WalletService } from '../services/wallets.js';
import type { Store } from '../store/types.js';

/** What route handlers call: one service each, never HTTP-free logic of their own. */
export interface RouteContext {
  store: Store;
  wallets: WalletService;
  activities: ActivityService;
  chainProbe: ChainProbe;
  metrics: DaemonMetrics;
  /** The RabbitMQ intake's state, when one is configured. */
  amqpStatus?: () => AmqpStatus;
}
