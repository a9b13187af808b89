import type { Channel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AmqpConfig } from '../config/types.js';
import { httpErrorOf } from '../http-errors.js';
import { activityBodySchema, idempotencyKeySchema } from '../routes/schemas.js';
import type { ActivityService, TrackActivityInput } from '../services/activities.js';

// ajv-formats is CommonJS with a default export that TypeScript's NodeNext sees one level deep.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** What became of one delivery. */
export type AmqpOutcome = 'created' | 'replayed' | 'invalid' | 'conflict' | 'retried';

/** The intake's connection as readiness reports it. */
export interface AmqpStatus {
  ok: boolean;
  queue: string;
  error?: string;
}

export interface AmqpIntakeOptions {
  config: AmqpConfig;
  /** From passwordEnv / passwordFile; never logged. */
  password: string | undefined;
  activities: ActivityService;
  /** Largest message body taken, as HTTP's body limit. */
  bodyLimitBytes: number;
  logger: Logger;
  /** The daemon's registry: the intake adds its counter and connection gauge to it. */
  registry: Registry;
}

const MAX_RECONNECT_DELAY_MS = 60_000;

/**
 * Activities from a RabbitMQ queue, with the same contract as `POST /activity/track`: the message
 * body is that request's JSON body and the message's `messageId` property (or an `idempotency-key`
 * header) its Idempotency-Key.
 *
 * A delivery is acknowledged only once its activity is durably stored (or was stored before: a
 * replay), so a crash at any point leaves the broker redelivering it, and the idempotency key
 * turns the redelivery into a replay: accepted once, never twice. A message that can never be
 * accepted (not JSON, not the schema, no key, a key used for another request) is rejected without
 * requeue, which a queue with a dead-letter exchange keeps for the operator. A message that fails
 * for the daemon's own reasons (its database) is requeued after a pause.
 *
 * The connection is kept up in the background: lost or refused, it is retried with a delay that
 * doubles up to a minute, and its state shows in /ready and the metrics. HTTP intake does not
 * depend on it.
 */
export class AmqpIntake {
  private readonly validateBody: ValidateFunction;
  private readonly validateKey: ValidateFunction;
  private readonly messages: Counter<'outcome'>;
  private readonly connected: Gauge;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private connection: ChannelModel | undefined;
  private consumer: { channel: Channel; tag: string } | undefined;
  private state: AmqpStatus;
  private loop: Promise<void> | undefined;

  constructor(private readonly options: AmqpIntakeOptions) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv, ['date-time']);
    this.validateBody = ajv.compile(activityBodySchema);
    this.validateKey = ajv.compile(idempotencyKeySchema);
    this.state = { ok: false, queue: options.config.queue, error: 'not connected yet' };
    this.messages = new Counter({
      name: 'peruri_adapter_amqp_messages_total',
      help: 'RabbitMQ deliveries handled, by outcome (created, replayed, invalid, conflict, retried).',
      labelNames: ['outcome'] as const,
      registers: [options.registry],
    });
    this.connected = new Gauge({
      name: 'peruri_adapter_amqp_connected',
      help: 'Whether the RabbitMQ intake is connected and consuming (1) or not (0).',
      registers: [options.registry],
    });
  }

  /** Starts connecting and consuming in the background. */
  start(): void {
    this.loop ??= this.keepConsuming();
  }

  status(): AmqpStatus {
    return { ...this.state };
  }

  /**
   * Stops taking deliveries, lets the ones in hand finish (acknowledged once stored), then closes
   * the connection. Anything not acknowledged by then is redelivered by the broker later.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    const consumer = this.consumer;
    if (consumer) await consumer.channel.cancel(consumer.tag).catch(() => undefined);
    await Promise.allSettled([...this.inFlight]);
    await this.connection?.close().catch(() => undefined);
    await this.loop;
  }

  private async keepConsuming(): Promise<void> {
    const { reconnectDelayMs } = this.options.config;
    let delay = reconnectDelayMs;
    while (!this.stopping.signal.aborted) {
      let consumed = false;
      try {
        await this.consumeUntilClosed(() => (consumed = true));
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        this.setDown(describe(error));
        this.options.logger.warn(
          { queue: this.options.config.queue, error: describe(error), retryInMs: delay },
          'cannot consume the RabbitMQ queue',
        );
      }
      if (consumed) delay = reconnectDelayMs;
      if (this.stopping.signal.aborted) break;
      await pause(delay, this.stopping.signal);
      delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS);
    }
    this.setDown('stopped');
  }

  /** Connects, declares or checks the queue, consumes; resolves when the connection closes. */
  private async consumeUntilClosed(onConsuming: () => void): Promise<void> {
    const { config } = this.options;
    const { connect } = await import('amqplib');
    const connection = await connect(connectOptions(config, this.options.password), {
      clientProperties: { connection_name: 'peruri-chain-adapter' },
    });
    this.connection = connection;
    const closed = new Promise<void>((resolve) => {
      connection.on('close', (error?: Error) => {
        this.consumer = undefined;
        this.connection = undefined;
        if (!this.stopping.signal.aborted) {
          this.setDown(error ? describe(error) : 'the connection closed');
          this.options.logger.warn(
            { queue: config.queue, error: this.state.error },
            'RabbitMQ connection lost',
          );
        }
        resolve();
      });
    });
    // 'error' is followed by 'close'; without a listener it would throw.
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createChannel();
      // A channel error (a refused declaration, an unknown delivery tag) closes the channel; the
      // connection goes too, so the loop starts over cleanly.
      channel.on('error', () => undefined);
      channel.on('close', () => void connection.close().catch(() => undefined));
      if (config.declare) {
        await channel.assertQueue(config.queue, {
          durable: true,
          ...(config.deadLetterExchange !== undefined
            ? { deadLetterExchange: config.deadLetterExchange }
            : {}),
        });
      } else {
        await channel.checkQueue(config.queue);
      }
      await channel.prefetch(config.prefetch);
      if (this.stopping.signal.aborted) throw new Error('stopping');
      const { consumerTag } = await channel.consume(
        config.queue,
        (message) => {
          // null: the broker cancelled the consumer (the queue was deleted); start over.
          if (message === null) void connection.close().catch(() => undefined);
          else this.take(channel, message);
        },
        { noAck: false },
      );
      this.consumer = { channel, tag: consumerTag };
      this.state = { ok: true, queue: config.queue };
      this.connected.set(1);
      onConsuming();
      this.options.logger.info(
        { queue: config.queue, prefetch: config.prefetch },
        'consuming RabbitMQ queue',
      );
    } catch (error) {
      await connection.close().catch(() => undefined);
      await closed;
      throw error;
    }
    await closed;
  }

  private take(channel: Channel, message: ConsumeMessage): void {
    const work = this.handle(message)
      .then((outcome) => {
        this.messages.inc({ outcome });
        if (outcome === 'created' || outcome === 'replayed') channel.ack(message);
        else channel.nack(message, false, outcome === 'retried');
      })
      .catch((error: unknown) => {
        // The channel closed meanwhile: the broker redelivers the message, a replay then.
        this.options.logger.debug({ error: describe(error) }, 'could not settle a RabbitMQ delivery');
      });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async handle(message: ConsumeMessage): Promise<AmqpOutcome> {
    const { config, bodyLimitBytes } = this.options;
    const header: unknown = message.properties.headers?.['idempotency-key'];
    const key: unknown = message.properties.messageId ?? header;
    const refuse = (outcome: 'invalid' | 'conflict', reason: string): AmqpOutcome => {
      // The key identifies the message to the operator; the body is never logged.
      this.options.logger.warn(
        { queue: config.queue, idempotencyKey: typeof key === 'string' ? key : undefined, reason },
        'RabbitMQ message rejected',
      );
      return outcome;
    };
    if (!this.validateKey(key)) {
      return refuse(
        'invalid',
        'no usable idempotency key: set messageId (1 to 255 printable ASCII characters)',
      );
    }
    if (message.content.length > bodyLimitBytes) {
      return refuse(
        'invalid',
        `body of ${message.content.length} bytes, over the ${bodyLimitBytes}-byte limit`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(message.content.toString('utf8'));
    } catch {
      return refuse('invalid', 'body is not JSON');
    }
    if (!this.validateBody(body)) return refuse('invalid', schemaSummary(this.validateBody.errors));
    const input = {
      ...(body as Omit<TrackActivityInput, 'idempotencyKey' | 'actor'>),
      idempotencyKey: key as string,
      actor: `amqp:${config.queue}`,
    };
    try {
      return (await this.options.activities.track(input)).outcome;
    } catch (error) {
      const answer = httpErrorOf(error);
      if (answer.status === 409) return refuse('conflict', answer.body.message);
      if (!answer.serverFault)
        return refuse('invalid', [answer.body.message, ...answer.body.details].join('; '));
      this.options.logger.error(
        { queue: config.queue, idempotencyKey: key, err: error },
        'RabbitMQ message not stored; requeued after a pause',
      );
      await pause(config.reconnectDelayMs, this.stopping.signal);
      return 'retried';
    }
  }

  private setDown(error: string): void {
    this.state = { ok: false, queue: this.options.config.queue, error };
    this.connected.set(0);
  }
}

/** amqplib's connection options from the URL and the separately kept password. */
function connectOptions(config: AmqpConfig, password: string | undefined): Options.Connect {
  const url = new URL(config.url);
  const tls = url.protocol === 'amqps:';
  const vhost = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return {
    protocol: tls ? 'amqps' : 'amqp',
    hostname: url.hostname,
    port: url.port ? Number(url.port) : tls ? 5671 : 5672,
    username: url.username ? decodeURIComponent(url.username) : 'guest',
    password: password ?? (url.username ? '' : 'guest'),
    vhost: vhost === '' ? '/' : vhost,
    heartbeat: 30,
  };
}

function schemaSummary(errors: ErrorObject[] | null | undefined): string {
  const problems = (errors ?? []).map(
    (error) => `${error.instancePath || 'body'} ${error.message ?? 'is invalid'}`,
  );
  return `body does not match the activity schema: ${problems.join('; ')}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
