import { stringify } from 'yaml';

export interface SpecYamlOptions {
  name?: string;
  chainId?: number;
  validators?: number;
  /** Put every node on 127.0.0.1 with distinct ports (a one-machine network). */
  loopback?: boolean;
  extra?: Record<string, unknown>;
}

/**
 * A network.yaml text with N validators (one organisation each), one tx node and a service.
 * @example aSpecYaml({ validators: 4, loopback: true })
 */
export function aSpecYaml(options: SpecYamlOptions = {}): string {
  const count = options.validators ?? 3;
  const loopback = options.loopback ?? true;
  const host = (index: number) =>
    loopback ? '127.0.0.1' : `10.30.${Math.floor(index / 250)}.${(index % 250) + 1}`;
  const ports = (index: number) =>
    loopback ? { p2pPort: 30303 + index, rpcPort: 8545 + index, metricsPort: 9545 + index } : {};
  const organisations = Array.from({ length: count }, (_, index) => ({ name: `org${index + 1}` }));
  const nodes = [
    ...organisations.map((organisation, index) => ({
      name: `val${index + 1}`,
      organisation: organisation.name,
      role: 'validator',
      host: host(index),
      ...ports(index),
    })),
    { name: 'tx', organisation: 'org1', role: 'tx', host: host(count), ...ports(count) },
  ];
  return stringify({
    name: options.name ?? 'test-net',
    chainId: options.chainId ?? 4242,
    installDir: loopback ? '.' : '/opt/peruri-chain',
    organisations,
    nodes,
    service: { host: host(count + 1), adapterPort: loopback ? 18080 : 8080 },
    ...options.extra,
  });
}
