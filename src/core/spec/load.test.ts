import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  aSpecInput,
  aSpecYaml,
  serviceHost,
  validatorHost,
  type SpecInput,
} from '../../../test/support/spec-builders.js';
import { ErrorCodes, InputError } from '../errors.js';
import { packagePath } from '../package-paths.js';
import { loadSpecFile, parseSpec } from './load.js';

function exampleText(example: 'pilot' | 'local'): string {
  return readFileSync(packagePath('examples', example, 'network.yaml'), 'utf8');
}

/** The 1-based line of the `occurrence`-th line of `text` that contains `fragment`. */
function lineOf(text: string, fragment: string, occurrence = 1): number {
  let seen = 0;
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.includes(fragment) && ++seen === occurrence) return index + 1;
  }
  throw new Error(`"${fragment}" (occurrence ${occurrence}) is not in the text`);
}

function specError(text: string, source = 'network.yaml'): InputError {
  try {
    parseSpec(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe(ErrorCodes.SPEC_INVALID);
    return error as InputError;
  }
  throw new Error('expected the spec to be rejected');
}

/** The details of the rejection of a spec document changed by `change`. */
function problemsOf(change: (input: SpecInput) => void, options?: Parameters<typeof aSpecInput>[0]) {
  const input = aSpecInput(options);
  change(input);
  const text = aSpecYaml(input);
  return { text, details: specError(text).details };
}

function aTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'peruri-spec-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('parseSpec on the shipped examples', () => {
  it('parses the pilot example and fills the defaults it leaves out', () => {
    // Given the pilot example, which gives no ssh section, no ports and no javaOpts
    const text = exampleText('pilot');
    // When it is parsed
    const { spec, text: kept, warnings } = parseSpec(text, 'examples/pilot/network.yaml');
    // Then the values it gives are kept
    expect(kept).toBe(text);
    expect(spec.name).toBe('peruri-pilot');
    expect(spec.chainId).toBe(202611);
    expect(spec.nodes.map((node) => [node.name, node.role, node.host, node.runtime])).toEqual([
      ['peruri', 'validator', '10.20.0.11', 'docker'],
      ['pds', 'validator', '10.20.0.12', 'systemd'],
      ['nota', 'validator', '10.20.0.13', 'docker'],
      ['tx', 'tx', '10.20.0.14', 'docker'],
    ]);
    expect(spec.contracts.token).toEqual({ name: 'Peruri Points', symbol: 'PRP', decimals: 0 });
    // And every node gets the ssh user besu on port 22 and Besu's default ports
    for (const node of spec.nodes) {
      expect(node.ssh).toEqual({ user: 'besu', port: 22 });
      expect([node.p2pPort, node.rpcPort, node.metricsPort]).toEqual([30303, 8545, 9545]);
    }
    expect(spec.service).toEqual({
      host: '10.20.0.20',
      adapterPort: 8080,
      runtime: 'systemd',
      ssh: { user: 'besu', port: 22 },
    });
    expect(spec.besu).toEqual({
      image: 'hyperledger/besu:26.2.0',
      binary: '/opt/besu/bin/besu',
      javaOpts: '-Xmx2g',
    });
    // And the three validators are reported as tolerating no fault
    expect(warnings).toEqual([
      '3 validator(s): blocks need 2 of them online (ceil(2N/3)); below 4 validators no faulty validator is tolerated in the BFT sense.',
    ]);
  });

  it('parses the local example with its relative installDir and fills gas, besu and contracts', () => {
    // Given the local example: every host 127.0.0.1, installDir ".", no gas, besu or contracts section
    const text = exampleText('local');
    // When it is parsed
    const { spec } = parseSpec(text, 'examples/local/network.yaml');
    // Then its own values are kept
    expect(spec.installDir).toBe('.');
    expect(spec.chainId).toBe(1337);
    expect(spec.nodes.map((node) => [node.p2pPort, node.rpcPort, node.metricsPort])).toEqual([
      [30303, 8545, 9545],
      [30304, 8546, 9546],
      [30305, 8547, 9547],
      [30306, 8548, 9548],
    ]);
    // And the omitted sections get their defaults
    expect(spec.gas).toEqual({ blockGasLimit: 100_000_000 });
    expect(spec.besu).toEqual({
      image: 'hyperledger/besu:26.2.0',
      binary: '/opt/besu/bin/besu',
      javaOpts: '-Xmx2g',
    });
    expect(spec.contracts).toEqual({
      token: { name: 'Peruri Points', symbol: 'PPT', decimals: 0 },
      badges: { uri: 'https://badges.example.invalid/{id}.json' },
    });
    expect(spec.nodes.every((node) => node.ssh.user === 'besu' && node.ssh.port === 22)).toBe(true);
  });
});

describe('parseSpec defaults', () => {
  it('fills the consensus section when it is omitted', () => {
    // Given a spec without a consensus section
    const input = aSpecInput();
    expect(input.consensus).toBeUndefined();
    // When it is parsed
    const { spec, warnings } = parseSpec(aSpecYaml(input), 'network.yaml');
    // Then IBFT 2.0 gets a 2 s block period, a 30000-block epoch and a 4 s request timeout
    expect(spec.consensus).toEqual({ blockPeriodSeconds: 2, epochLength: 30000, requestTimeoutSeconds: 4 });
    // And the defaults do not trigger the request-timeout warning
    expect(warnings.some((warning) => warning.includes('requestTimeoutSeconds'))).toBe(false);
  });

  it('fills the consensus fields left out of a partial section', () => {
    // Given a consensus section with only the block period
    const input = aSpecInput({ consensus: { blockPeriodSeconds: 1 } });
    // When it is parsed
    const { spec } = parseSpec(aSpecYaml(input), 'network.yaml');
    // Then the other two fields get their defaults
    expect(spec.consensus).toEqual({ blockPeriodSeconds: 1, epochLength: 30000, requestTimeoutSeconds: 4 });
  });

  it('fills installDir, node ports, runtime and the service defaults', () => {
    // Given the minimal spec of the builder
    // When it is parsed
    const { spec } = parseSpec(aSpecYaml(aSpecInput({ validators: 1 })), 'network.yaml');
    // Then the omitted fields have their documented defaults
    expect(spec.installDir).toBe('/opt/peruri-chain');
    expect(spec.nodes[0]).toEqual({
      name: 'validator-1',
      organisation: 'org-1',
      role: 'validator',
      host: validatorHost(0),
      ssh: { user: 'besu', port: 22 },
      p2pPort: 30303,
      rpcPort: 8545,
      metricsPort: 9545,
      runtime: 'docker',
    });
    expect(spec.service).toEqual({
      host: serviceHost,
      ssh: { user: 'besu', port: 22 },
      adapterPort: 8080,
      runtime: 'docker',
    });
  });

  it('accepts an admin address and a public key written unquoted, as YAML users write hex', () => {
    // Given 0x-prefixed hex values without quotes (YAML 1.2 reads 0x... as an integer)
    const admin = '0x5ff6f4b66a46a2b2310a6f3a93aaddc0d9a1c193';
    const publicKey =
      '0x9481ee2b34196827e8c4807ae29c2675c15d3641e482ab81cc0bc3ef535755b426b9f5c474213df28a563fab0bf0830b455ee8955b3faac93075422a6abf160d';
    const text = aSpecYaml(aSpecInput({ validators: 1 }))
      .replace('  - name: org-1\n', `  - name: org-1\n    admin: ${admin}\n`)
      .replace(
        `    host: ${validatorHost(0)}\n`,
        `    host: ${validatorHost(0)}\n    publicKey: ${publicKey}\n`,
      );
    expect(text).toContain(`admin: ${admin}\n`);
    expect(text).toContain(`publicKey: ${publicKey}\n`);
    // When it is parsed
    const { spec } = parseSpec(text, 'network.yaml');
    // Then both are kept as the strings written, not turned into (rounded) numbers
    expect(spec.organisations[0]?.admin).toBe(admin);
    expect(spec.nodes[0]?.publicKey).toBe(publicKey);
  });
});

describe('parseSpec schema errors', () => {
  it('reports every problem of a spec at once, each with path, line, expectation and finding', () => {
    // Given a spec with many faults: wrong type, unknown key, missing required, bad enum, bad IP,
    // port out of range, bad publicKey pattern
    const text = [
      'name: broken-net', // 1
      'chainId: "202611"', // 2: wrong type
      'organisations:', // 3
      '  - name: org-1', // 4
      'nodes:', // 5
      '  - name: validator-1', // 6
      '    organisation: org-1', // 7
      '    role: validator', // 8
      '    host: 10.0.0.11', // 9
      '    colour: blue', // 10: unknown key
      '  - name: validator-2', // 11
      '    organisation: org-1', // 12
      '    role: observer', // 13: bad enum
      '    host: 10.0.0.300', // 14: bad IP
      '    p2pPort: 70000', // 15: port out of range
      '    runtime: podman', // 16: bad enum
      '  - name: tx-1', // 17
      '    role: tx', // 18: missing organisation
      '    host: 10.0.1.11', // 19
      '    publicKey: "0x1234"', // 20: bad pattern
      'service:', // 21
      '  adapterPort: 8080', // 22: missing host
      '',
    ].join('\n');
    // When it is parsed
    const error = specError(text, 'broken.yaml');
    // Then one error lists every problem, in document order, with its dotted path and line
    expect(error).toBeInstanceOf(InputError);
    expect(error.kind).toBe('input');
    expect(error.details).toHaveLength(9);
    expect(error.message).toBe('The network spec broken.yaml is not valid (9 problems)');
    for (const detail of error.details) {
      expect(detail).toMatch(
        /^[\w$.[\]]+ \(line \d+\): (expected .+, found .+|unknown property; .+|missing .+)$/,
      );
    }
    expect(error.hint).toContain('network.schema.json');
    expect(error.describe()).toMatchInlineSnapshot(`
      "The network spec broken.yaml is not valid (9 problems)
        - chainId (line 2): expected integer (an integer chain id from 1 to 2^52, not one of a public network), found "202611"
        - nodes[0].colour (line 10): unknown property; expected one of name, organisation, role, host, ssh, p2pPort, rpcPort, metricsPort, runtime, publicKey
        - nodes[1].role (line 13): expected one of "validator", "tx", found "observer"
        - nodes[1].host (line 14): expected an IPv4 or IPv6 address (enode URLs need an IP, not a host name), found "10.0.0.300"
        - nodes[1].p2pPort (line 15): expected P2P (devp2p) TCP/UDP port (<= 65535), found 70000
        - nodes[1].runtime (line 16): expected one of "docker", "systemd", found "podman"
        - nodes[2] (line 17): missing required property "organisation"
        - nodes[2].publicKey (line 20): expected an existing node public key: 128 hex digits (uncompressed secp256k1, no 04 prefix), found "0x1234"
        - service (line 22): missing required property "host""
    `);
  });

  it('names the missing top-level properties of an empty document', () => {
    // Given an empty file
    // When it is parsed
    const error = specError('', 'empty.yaml');
    // Then every required top-level property is listed
    expect(error.details).toEqual([
      '(top level): missing required property "name"',
      '(top level): missing required property "chainId"',
      '(top level): missing required property "organisations"',
      '(top level): missing required property "nodes"',
      '(top level): missing required property "service"',
    ]);
  });

  it.each([
    [
      'a duplicate key',
      'name: test-net\nchainId: 1337\nnodes:\n  - name: a\n    role: validator\n    role: tx\n',
      'line 6, column 5: Map keys must be unique',
    ],
    [
      'a nested mapping on one line',
      'name: test-net\nchainId: 1337\nnodes:\n  - name: a\n    host: 10.0.0.1: 30303\n',
      'line 5, column 11: Nested mappings are not allowed in compact mappings',
    ],
  ])('gives the line and column of a YAML syntax error (%s)', (_case, text, detail) => {
    // When text that is not valid YAML is parsed
    const error = specError(text, 'syntax.yaml');
    // Then the one problem gives the line and the column, before any schema check
    expect(error.message).toBe('The network spec syntax.yaml is not valid (1 problem)');
    expect(error.details).toEqual([detail]);
  });

  it('lists every YAML syntax error, not only the first', () => {
    // Given two duplicate keys in different places
    const text = 'name: a\nname: b\nnodes:\n  - role: tx\n    role: tx\n';
    // When it is parsed
    const error = specError(text);
    // Then both are reported with their own line
    expect(error.details).toEqual([
      'line 2, column 1: Map keys must be unique',
      'line 5, column 5: Map keys must be unique',
    ]);
  });
});

describe('parseSpec cross-field rules', () => {
  it('rejects a node name used twice', () => {
    // Given two nodes named validator-1
    const { text, details } = problemsOf((input) => {
      input.nodes[1]!.name = 'validator-1';
    });
    // Then the second one is reported at its line
    expect(details).toEqual([
      `nodes[1].name (line ${lineOf(text, 'name: validator-1', 2)}): node name "validator-1" is used more than once`,
    ]);
  });

  it('rejects an organisation name used twice', () => {
    // Given the organisation org-1 listed twice
    const { text, details } = problemsOf(
      (input) => {
        input.organisations.push({ name: 'org-1' });
      },
      { validators: 1 },
    );
    // Then the second listing is reported
    expect(details).toEqual([
      `organisations[1].name (line ${lineOf(text, 'name: org-1', 2)}): organisation name "org-1" is used more than once`,
    ]);
  });

  it('rejects a node of an unknown organisation', () => {
    // Given a node of the organisation "nobody"
    const { text, details } = problemsOf((input) => {
      input.nodes[2]!.organisation = 'nobody';
    });
    // Then the node's organisation is reported with the known ones
    expect(details).toEqual([
      `nodes[2].organisation (line ${lineOf(text, 'organisation: nobody')}): expected one of the organisations (org-1, org-2, org-3, org-4), found "nobody"`,
    ]);
  });

  it('rejects a network without a validator', () => {
    // Given only a tx node
    const { text, details } = problemsOf(() => {}, { validators: 0 });
    // Then the node list is reported
    expect(details).toEqual([
      `nodes (line ${lineOf(text, '- name: tx-1')}): expected at least one node with role "validator", found none`,
    ]);
  });

  it('rejects a network without a tx node', () => {
    // Given only validators
    const { text, details } = problemsOf(() => {}, { txNodes: 0 });
    // Then the node list is reported
    expect(details).toEqual([
      `nodes (line ${lineOf(text, '- name: validator-1')}): expected a node with role "tx" (the adapter sends transactions to it), found none`,
    ]);
  });

  it('rejects two tx nodes when service.rpcNode does not say which one the adapter uses', () => {
    // Given two tx nodes and no rpcNode
    const { text, details } = problemsOf(() => {}, { txNodes: 2 });
    // Then the service is reported
    expect(details).toEqual([
      `service (line ${lineOf(text, `host: ${serviceHost}`)}): missing "rpcNode": there are 2 tx nodes, name the one the adapter uses`,
    ]);
  });

  it('accepts two tx nodes once service.rpcNode names one', () => {
    // Given two tx nodes and rpcNode tx-2
    const input = aSpecInput({ txNodes: 2 });
    input.service.rpcNode = 'tx-2';
    // When it is parsed
    const { spec } = parseSpec(aSpecYaml(input), 'network.yaml');
    // Then it is valid and keeps the choice
    expect(spec.service.rpcNode).toBe('tx-2');
  });

  it('rejects a service.rpcNode that names a validator', () => {
    // Given rpcNode naming validator-1
    const { text, details } = problemsOf((input) => {
      input.service.rpcNode = 'validator-1';
    });
    // Then rpcNode is reported with the tx nodes it could name
    expect(details).toEqual([
      `service.rpcNode (line ${lineOf(text, 'rpcNode: validator-1')}): expected the name of a tx node (tx-1), found "validator-1"`,
    ]);
  });

  it('rejects a public key given to two nodes, even written differently', () => {
    // Given the same public key on two nodes, once with 0x in uppercase, once bare in lowercase
    const publicKey =
      '9481ee2b34196827e8c4807ae29c2675c15d3641e482ab81cc0bc3ef535755b426b9f5c474213df28a563fab0bf0830b455ee8955b3faac93075422a6abf160d';
    const { text, details } = problemsOf((input) => {
      input.nodes[0]!.publicKey = `0x${publicKey.toUpperCase()}`;
      input.nodes[3]!.publicKey = publicKey;
    });
    // Then the second node's key is reported
    expect(details).toEqual([
      `nodes[3].publicKey (line ${lineOf(text, `publicKey: ${publicKey}`)}): this public key is given to more than one node; every node needs its own enode`,
    ]);
  });

  it('rejects two nodes on one host with the same port', () => {
    // Given validator-2 on validator-1's machine, with its own RPC and metrics ports but the same P2P port
    const { text, details } = problemsOf((input) => {
      Object.assign(input.nodes[1]!, {
        host: validatorHost(0),
        p2pPort: 30303,
        rpcPort: 8546,
        metricsPort: 9546,
      });
    });
    // Then the clash is reported on the second node's port, naming the first
    expect(details).toEqual([
      `nodes[1].p2pPort (line ${lineOf(text, 'p2pPort: 30303')}): port 30303 on ${validatorHost(0)} is already used by validator-1 (p2pPort)`,
    ]);
  });

  it("rejects the service's adapter port on a port a node of the same host uses", () => {
    // Given the service on validator-1's machine, its adapter on 8545 (the node's default RPC port)
    const { text, details } = problemsOf((input) => {
      input.service.host = validatorHost(0);
      input.service.adapterPort = 8545;
    });
    // Then the clash is reported on the adapter port
    expect(details).toEqual([
      `service.adapterPort (line ${lineOf(text, 'adapterPort: 8545')}): port 8545 on ${validatorHost(0)} is already used by validator-1 (rpcPort)`,
    ]);
  });

  it('accepts the same ports on different hosts', () => {
    // Given every node on its own machine with Besu's default ports (as in the builder)
    // When it is parsed
    // Then no port clash is reported
    expect(() => parseSpec(aSpecYaml(aSpecInput()), 'network.yaml')).not.toThrow();
  });

  it('rejects chain id 1 (Ethereum Mainnet)', () => {
    // Given chainId 1
    const { text, details } = problemsOf(() => {}, { chainId: 1 });
    // Then the chain id is reported, naming the public network
    expect(details).toEqual([
      `chainId (line ${lineOf(text, 'chainId: 1')}): expected a private chain id, found 1, which is Ethereum Mainnet's`,
    ]);
  });

  it('rejects a relative installDir when nodes are on other machines', () => {
    // Given installDir "." and non-loopback hosts
    const { text, details } = problemsOf((input) => {
      input.installDir = '.';
    });
    // Then installDir is reported
    expect(details).toEqual([
      `installDir (line ${lineOf(text, 'installDir: .')}): expected an absolute path (the nodes are on other machines), found "."`,
    ]);
  });

  it('rejects a relative installDir when only the service is on another machine', () => {
    // Given every node on loopback with its own ports but the service on a LAN address
    const { details } = problemsOf(
      (input) => {
        input.installDir = 'nodes';
        input.nodes.forEach((node, index) =>
          Object.assign(node, {
            host: '127.0.0.1',
            p2pPort: 30303 + index,
            rpcPort: 8545 + index,
            metricsPort: 9545 + index,
          }),
        );
      },
      { validators: 1 },
    );
    // Then installDir is reported
    expect(details).toHaveLength(1);
    expect(details[0]).toMatch(/^installDir \(line \d+\): expected an absolute path/);
  });

  it('reports every broken rule at once', () => {
    // Given a public chain id and a duplicate node name
    const { details } = problemsOf(
      (input) => {
        input.nodes[1]!.name = 'validator-1';
      },
      { chainId: 1 },
    );
    // Then both are listed
    expect(details.map((detail) => detail.split(' ')[0])).toEqual(['chainId', 'nodes[1].name']);
  });
});

describe('parseSpec warnings', () => {
  it.each([
    [
      1,
      '1 validator(s): blocks need 1 of them online (ceil(2N/3)); below 4 validators no faulty validator is tolerated in the BFT sense.',
    ],
    [
      3,
      '3 validator(s): blocks need 2 of them online (ceil(2N/3)); below 4 validators no faulty validator is tolerated in the BFT sense.',
    ],
    [4, '4 validators: blocks need 3 of them online (ceil(2N/3)); 1 faulty validator(s) tolerated.'],
    [7, '7 validators: blocks need 5 of them online (ceil(2N/3)); 2 faulty validator(s) tolerated.'],
  ])('tells the fault tolerance of %i validator(s)', (validators, warning) => {
    // Given N validators
    // When the spec is parsed
    const { warnings } = parseSpec(aSpecYaml(aSpecInput({ validators })), 'network.yaml');
    // Then the warning gives quorum ceil(2N/3) and f = floor((N-1)/3)
    expect(warnings).toEqual([warning]);
  });

  it('warns when requestTimeoutSeconds is under twice the block period', () => {
    // Given a 3 s block period and a 5 s request timeout
    const input = aSpecInput({ consensus: { blockPeriodSeconds: 3, requestTimeoutSeconds: 5 } });
    // When it is parsed
    const { warnings } = parseSpec(aSpecYaml(input), 'network.yaml');
    // Then the timeout warning comes first, then the tolerance
    expect(warnings).toEqual([
      'consensus.requestTimeoutSeconds (5) is under twice the block period (3 s): expect needless round changes under load.',
      '4 validators: blocks need 3 of them online (ceil(2N/3)); 1 faulty validator(s) tolerated.',
    ]);
  });

  it('does not warn when requestTimeoutSeconds is exactly twice the block period', () => {
    // Given a 3 s block period and a 6 s request timeout
    const input = aSpecInput({ consensus: { blockPeriodSeconds: 3, requestTimeoutSeconds: 6 } });
    // When it is parsed
    const { warnings } = parseSpec(aSpecYaml(input), 'network.yaml');
    // Then only the tolerance is told
    expect(warnings).toEqual([
      '4 validators: blocks need 3 of them online (ceil(2N/3)); 1 faulty validator(s) tolerated.',
    ]);
  });
});

describe('loadSpecFile', () => {
  it('reads and validates a spec file from disk', async () => {
    // Given a spec file in a temp dir
    const path = join(aTempDir(), 'network.yaml');
    const text = aSpecYaml(aSpecInput({ validators: 4 }));
    writeFileSync(path, text);
    // When it is loaded
    const result = await loadSpecFile(path);
    // Then it is the parsed spec with its text
    expect(result.text).toBe(text);
    expect(result.spec.nodes).toHaveLength(5);
  });

  it('names the file in the errors of an invalid spec', async () => {
    // Given an invalid spec file
    const path = join(aTempDir(), 'network.yaml');
    writeFileSync(path, aSpecYaml(aSpecInput({ chainId: 1 })));
    // When it is loaded
    // Then the error names the file
    await expect(loadSpecFile(path)).rejects.toMatchObject({
      code: ErrorCodes.SPEC_INVALID,
      message: `The network spec ${path} is not valid (1 problem)`,
    });
  });

  it('rejects a missing file with PC_SPEC_NOT_FOUND', async () => {
    // Given a path where no file exists
    const path = join(aTempDir(), 'missing.yaml');
    // When it is loaded
    // Then it is an input error naming the path, with a hint
    const error: unknown = await loadSpecFile(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe(ErrorCodes.SPEC_NOT_FOUND);
    expect((error as InputError).message).toBe(`Cannot read the network spec ${path}`);
    expect((error as InputError).hint).toContain('--example');
  });
});
