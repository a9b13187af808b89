import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { InputError, InterruptedError, RemoteError } from '../core/errors.js';
import { connectRpc, redactUrl } from './rpc.js';
import { rejectionOf } from '../../test/support/net.js';

/** What a fake endpoint does with one JSON-RPC method: an HTTP status and body, or silence. */
type Answer = { status: number; body: unknown } | 'silence';

// A local HTTP server standing in for an RPC endpoint. JSON results are wrapped into proper
// JSON-RPC responses, as a batch when ethers sent a batch. Returns its URL and the methods asked.
async function anEndpoint(answer: (method: string) => Answer) {
  const methods: string[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(text) as { id: number; method: string } | { id: number; method: string }[];
      const requests = Array.isArray(parsed) ? parsed : [parsed];
      methods.push(...requests.map((r) => r.method));
      const answers = requests.map((r) => ({ request: r, answer: answer(r.method) }));
      if (answers.some((a) => a.answer === 'silence')) return;
      const first = answers[0]!.answer as { status: number; body: unknown };
      if (first.status !== 200) {
        res.writeHead(first.status);
        res.end();
        return;
      }
      const bodies = answers.map(({ request, answer: a }) => {
        const { body } = a as { body: unknown };
        return typeof body === 'string' ? { jsonrpc: '2.0', id: request.id, result: body } : body;
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(parsed) ? bodies : bodies[0]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, methods };
}

describe('connectRpc', () => {
  it('asks for the chain id once and returns a provider pinned to it, polling every 200 ms', async () => {
    // Given a node on chain 42 at block 7
    const node = await anEndpoint((method) => ({
      status: 200,
      body: method === 'eth_chainId' ? '0x2a' : '0x7',
    }));

    // When connecting and reading the network and the block number twice
    const provider = await connectRpc(node.url);
    onTestFinished(() => provider.destroy());
    const network = await provider.getNetwork();
    const blocks = [await provider.getBlockNumber(), await provider.getBlockNumber()];

    // Then the chain id was asked once, and block numbers are never served from a cache
    expect(network.chainId).toBe(42n);
    expect(blocks).toEqual([7, 7]);
    expect(provider.pollingInterval).toBe(200);
    expect(node.methods).toEqual(['eth_chainId', 'eth_blockNumber', 'eth_blockNumber']);
  });

  it('refuses a URL that is not http(s) as bad input', async () => {
    // When connecting to a websocket URL
    const error = await rejectionOf(connectRpc('ws://127.0.0.1:8546'));

    // Then it is an InputError with its own code
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe('PC_RPC_URL_INVALID');
  });

  it('reports an HTTP error, a non-JSON-RPC answer and silence as RemoteErrors naming the URL', async () => {
    // Given three endpoints that are not usable nodes
    const failing = await anEndpoint(() => ({ status: 500, body: undefined }));
    const notRpc = await anEndpoint(() => ({ status: 200, body: { hello: 'world' } }));
    const silent = await anEndpoint(() => 'silence');

    // When connecting to each
    const errors = [
      await rejectionOf(connectRpc(failing.url)),
      await rejectionOf(connectRpc(notRpc.url)),
      await rejectionOf(connectRpc(silent.url, { timeoutMs: 200 })),
    ];

    // Then each is a RemoteError that says what went wrong where
    expect(errors.map((e) => [e instanceof RemoteError, (e as RemoteError).code])).toEqual(
      Array(3).fill([true, 'PC_REMOTE_FAILED']),
    );
    expect((errors[0] as Error).message).toBe(`RPC ${failing.url}: answered HTTP 500 to eth_chainId`);
    expect((errors[1] as Error).message).toBe(
      `RPC ${notRpc.url}: is not an Ethereum JSON-RPC endpoint (eth_chainId answered {"hello":"world"})`,
    );
    expect((errors[2] as Error).message).toBe(`RPC ${silent.url}: no answer to eth_chainId within 200 ms`);
    expect((errors[2] as RemoteError).host).toBe(silent.url);
  });

  it('stops when its signal is aborted', async () => {
    // Given a node that never answers and a signal aborted shortly
    const silent = await anEndpoint(() => 'silence');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    // When connecting with that signal
    const error = await rejectionOf(connectRpc(silent.url, { signal: controller.signal, timeoutMs: 10_000 }));

    // Then it is an interruption, not a remote failure
    expect(error).toBeInstanceOf(InterruptedError);
  });

  it('never shows the query or credentials of the URL in an error', async () => {
    // Given an endpoint that refuses every request
    const failing = await anEndpoint(() => ({ status: 401, body: undefined }));
    const port = new URL(failing.url).port;

    // When connecting with an API key in the query, and with a password over plain http
    const withKey = (await rejectionOf(connectRpc(`http://127.0.0.1:${port}/rpc?apikey=k3y`))) as RemoteError;
    const withPassword = (await rejectionOf(
      connectRpc(`http://operator:s3cret@127.0.0.1:${port}/`),
    )) as InputError;

    // Then the key is left out, and the password is refused before anything is sent, unshown
    expect(withKey.message).toBe(`RPC http://127.0.0.1:${port}/rpc: answered HTTP 401 to eth_chainId`);
    expect(withPassword).toBeInstanceOf(InputError);
    expect(withPassword.message).toBe(
      `The RPC URL http://127.0.0.1:${port}/ carries credentials over plain http`,
    );
    expect(failing.methods).toEqual(['eth_chainId']);
    expect(redactUrl('https://u:p@node.example/rpc?k=1')).toBe('https://node.example/rpc');
    expect(redactUrl('http://127.0.0.1:8545')).toBe('http://127.0.0.1:8545');
  });
});
