import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { aDaemon } from '../support/daemon.js';
import { aTempDir } from '../support/temp-dir.js';

interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the server does not trust. */
  strangerCert: string;
  strangerKey: string;
}

/** A CA, a server certificate for 127.0.0.1 and client certificates, made with openssl. */
async function aPki(): Promise<Pki> {
  const dir = await aTempDir('peruri-pki-');
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execa('openssl', args, { cwd: dir });
  const authority = async (name: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    );
  const issue = async (name: string, ca: string, extensions: string) => {
    await writeFile(at(`${name}.ext`), extensions);
    await openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    await openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    );
  };
  await authority('ca');
  await authority('stranger-ca');
  await issue('server', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await issue('client', 'ca', 'extendedKeyUsage=clientAuth\n');
  await issue('stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  const read = (name: string) => readFile(at(name), 'utf8');
  return {
    ca: await read('ca.crt'),
    serverCert: await read('server.crt'),
    serverKey: await read('server.key'),
    clientCert: await read('client.crt'),
    clientKey: await read('client.key'),
    strangerCert: await read('stranger.crt'),
    strangerKey: await read('stranger.key'),
  };
}

function get(
  port: number,
  path: string,
  options: { ca: string; cert?: string; key?: string; headers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        headers: options.headers,
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('mTLS', () => {
  it('serves HTTPS only to clients with a certificate from the configured CA', async () => {
    // Given a daemon configured with a CA, a server certificate and key, listening on loopback
    const pki = await aPki();
    const daemon = await aDaemon({ tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
    await daemon.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = daemon.app.server.address() as AddressInfo;
    // When a client comes without a certificate, or with one from another CA
    // Then the TLS handshake refuses it before any HTTP happens
    await expect(get(port, '/health', { ca: pki.ca })).rejects.toThrow();
    await expect(
      get(port, '/health', { ca: pki.ca, cert: pki.strangerCert, key: pki.strangerKey }),
    ).rejects.toThrow();
    // When a client presents the CA's client certificate
    const client = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    // Then it is served, and the JWT still decides the protected routes
    expect(await get(port, '/health', client)).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect((await get(port, '/wallet/status?userId=u1', client)).status).toBe(401);
    const withToken = await get(port, '/wallet/status?userId=u1', {
      ...client,
      headers: await daemon.auth(),
    });
    expect(withToken.status).toBe(200);
    expect(JSON.parse(withToken.body)).toMatchObject({ userId: 'u1', custody: 'custodial' });
  });
});
