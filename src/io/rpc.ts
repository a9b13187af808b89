import { FetchRequest, JsonRpcProvider, Network } from 'ethers';
import { ErrorCodes, InputError, InterruptedError, PeruriError, RemoteError } from '../core/errors.js';

/** Options of {@link connectRpc}. */
export interface ConnectRpcOptions {
  /** Aborts the probe; the returned provider is not tied to it. */
  signal?: AbortSignal;
  /** Limit for the probe and for every later request, in milliseconds (default 10,000). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Connects to an Ethereum JSON-RPC endpoint: asks it once for its chain id, then returns a provider
 * pinned to that chain that never re-detects the network, never caches reads (a cached nonce broke
 * fast deploys) and polls every 200 ms (2-second blocks).
 * @param url - the http(s) endpoint
 * @param options - abort signal and timeout
 * @returns a provider; call `destroy()` when done
 * @throws InputError for a URL that is not http(s), or that carries a password over plain http;
 *   RemoteError naming the URL (without credentials or query) when the endpoint does not answer
 *   as a JSON-RPC node
 * @example
 * const provider = await connectRpc('http://127.0.0.1:8545', { timeoutMs: 5_000 });
 * const { chainId } = await provider.getNetwork();
 */
export async function connectRpc(url: string, options: ConnectRpcOptions = {}): Promise<JsonRpcProvider> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const target = parseRpcUrl(url);
  const chainId = await probeChainId(target, timeoutMs, options.signal);
  const network = Network.from(chainId);
  const request = new FetchRequest(target.endpoint);
  request.timeout = timeoutMs;
  if (target.credentials) request.setCredentials(target.credentials.username, target.credentials.password);
  return new JsonRpcProvider(request, network, {
    staticNetwork: network,
    cacheTimeout: -1,
    pollingInterval: 200,
  });
}

/**
 * Turns any failure of a call to an RPC endpoint into a RemoteError that names the endpoint; errors
 * of the peruri-chain hierarchy pass through unchanged.
 * @param url - the endpoint
 * @param action - what was being done, as a verb phrase ("send the PointsToken deployment")
 * @param error - what was thrown
 * @returns the error to throw
 */
export function rpcFailure(url: string, action: string, error: unknown): PeruriError {
  if (error instanceof PeruriError) return error;
  const reason = withoutUrl(describeCause(error), url);
  return new RemoteError(ErrorCodes.REMOTE_FAILED, `RPC ${redactUrl(url)}: could not ${action}: ${reason}`, {
    host: redactUrl(url),
    command: action,
    hint: 'Check that the node is running and that the URL is right.',
    cause: error,
  });
}

/**
 * The URL without user name, password and query, so it can be shown and logged.
 * @param url - an endpoint URL
 * @returns the URL safe to print
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '' && parsed.search === '') return url;
    parsed.username = '';
    parsed.password = '';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return '<invalid URL>';
  }
}

interface RpcTarget {
  /** The URL as given, to redact it out of error texts. */
  url: string;
  /** The URL without user info: fetch() refuses URLs that carry credentials. */
  endpoint: string;
  /** Sent as HTTP Basic authentication, over https only. */
  credentials: { username: string; password: string } | undefined;
  /** The URL safe to print. */
  shown: string;
}

function parseRpcUrl(url: string): RpcTarget {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  const shown = redactUrl(url);
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new InputError(ErrorCodes.RPC_URL_INVALID, `Not an http(s) RPC URL: ${shown}`, {
      hint: 'Give the node JSON-RPC endpoint, for example http://127.0.0.1:8545.',
    });
  }
  if (parsed.username === '' && parsed.password === '') {
    return { url, endpoint: url, credentials: undefined, shown };
  }
  if (parsed.protocol !== 'https:') {
    throw new InputError(
      ErrorCodes.RPC_URL_INVALID,
      `The RPC URL ${shown} carries credentials over plain http`,
      {
        hint: 'Use https for an endpoint that needs a user and password; over http they would travel in clear.',
      },
    );
  }
  const credentials = {
    username: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
  parsed.username = '';
  parsed.password = '';
  return { url, endpoint: parsed.toString(), credentials, shown };
}

async function probeChainId(
  target: RpcTarget,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<bigint> {
  const { shown } = target;
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const fail = (message: string, cause?: unknown): RemoteError =>
    new RemoteError(ErrorCodes.REMOTE_FAILED, `RPC ${shown}: ${message}`, {
      host: shown,
      command: 'eth_chainId',
      hint: 'Check that the node is running, that its HTTP JSON-RPC is enabled, and that the URL is right.',
      cause,
    });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (target.credentials) {
    const { username, password } = target.credentials;
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  let body: unknown;
  try {
    const response = await fetch(target.endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: combined,
    });
    if (!response.ok) throw fail(`answered HTTP ${response.status} to eth_chainId`);
    body = await response.json().catch((cause: unknown) => {
      throw fail('answered eth_chainId with something that is not JSON', cause);
    });
  } catch (error) {
    if (error instanceof PeruriError) throw error;
    if (signal?.aborted) throw new InterruptedError(`Interrupted while connecting to ${shown}`);
    if (timeout.aborted) throw fail(`no answer to eth_chainId within ${timeoutMs} ms`, error);
    throw fail(`cannot connect (${withoutUrl(describeCause(error), target.url)})`, error);
  }
  const result = (body as { result?: unknown } | null)?.result;
  if (typeof result !== 'string' || !/^0x[0-9a-fA-F]+$/.test(result)) {
    const answer = JSON.stringify(body) ?? String(body);
    throw fail(`is not an Ethereum JSON-RPC endpoint (eth_chainId answered ${answer.slice(0, 200)})`);
  }
  return BigInt(result);
}

// fetch() wraps the socket error (ECONNREFUSED, ENOTFOUND) in `cause`; ethers puts the short form in
// `shortMessage`. Either reads better than the generic outer message.
function describeCause(error: unknown): string {
  if (error instanceof Error) {
    const inner = (error as { cause?: unknown }).cause;
    if (inner instanceof Error && 'code' in inner) {
      const code = String(inner.code);
      return inner.message.includes(code) ? inner.message : `${code}: ${inner.message}`;
    }
    const short = (error as { shortMessage?: unknown }).shortMessage;
    if (typeof short === 'string') return short;
    return error.message;
  }
  return String(error);
}

// Library messages sometimes quote the URL they were given; quote it redacted instead.
function withoutUrl(text: string, url: string): string {
  return text.split(url).join(redactUrl(url));
}

/** Options of {@link rpcRequest}. */
export interface RpcRequestOptions {
  signal?: AbortSignal;
  /** Limit in milliseconds (default 10,000). */
  timeoutMs?: number;
}

/**
 * Sends one JSON-RPC 2.0 request with fetch: for the node methods ethers does not know (`ibft_*`,
 * `admin_peers`, `net_peerCount`) and for probes that must stay cheap.
 * @param url - the endpoint (no credentials: these are forwarded loopback URLs)
 * @param method - the method name
 * @param params - its parameters
 * @param options - abort signal and time limit
 * @returns the `result` member
 * @throws RemoteError naming the endpoint and method when it does not answer, answers with a JSON-RPC
 *   error or with something else than JSON-RPC; InterruptedError when the signal aborts
 * @example
 * const validators = await rpcRequest<string[]>(url, 'ibft_getValidatorsByBlockNumber', ['latest']);
 */
export async function rpcRequest<T>(
  url: string,
  method: string,
  params: unknown[] = [],
  options: RpcRequestOptions = {},
): Promise<T> {
  const shown = redactUrl(url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const combined = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const fail = (reason: string, cause?: unknown): RemoteError =>
    new RemoteError(ErrorCodes.REMOTE_FAILED, `RPC ${shown}: ${method}: ${reason}`, {
      host: shown,
      command: method,
      hint: 'Check that the node is running and that its JSON-RPC enables this API.',
      cause,
    });
  let body: { result?: unknown; error?: { code?: unknown; message?: unknown } } | null;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: combined,
    });
    if (!response.ok) throw fail(`answered HTTP ${response.status}`);
    body = (await response.json()) as typeof body;
  } catch (error) {
    if (error instanceof PeruriError) throw error;
    if (options.signal?.aborted)
      throw new InterruptedError(`Interrupted while calling ${method} on ${shown}`);
    if (timeout.aborted) throw fail(`no answer within ${timeoutMs} ms`, error);
    throw fail(withoutUrl(describeCause(error), url), error);
  }
  if (body?.error) throw fail(`error ${String(body.error.code)}: ${String(body.error.message)}`);
  if (body === null || !('result' in body)) throw fail('the answer is not JSON-RPC');
  return body.result as T;
}
