import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { compileContracts as compile } from '../../scripts/build-contracts.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

// A throw-away package root holding the given contract sources, the build script and a link to
// this checkout's node_modules (same solc, same OpenZeppelin).
function aPackageWith(sources: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'peruri-contracts-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'contracts/src'), { recursive: true });
  mkdirSync(path.join(root, 'scripts'));
  writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(path.join(repoRoot, 'node_modules'), path.join(root, 'node_modules'));
  copyFileSync(
    path.join(repoRoot, 'scripts/build-contracts.js'),
    path.join(root, 'scripts/build-contracts.js'),
  );
  for (const [name, content] of Object.entries(sources)) {
    writeFileSync(path.join(root, 'contracts/src', name), content);
  }
  return root;
}

describe('contracts build', () => {
  it('compiles the sources in memory into exactly the committed contracts/build files', () => {
    // Given the committed build output
    const buildDir = path.join(repoRoot, 'contracts/build');
    const committed = readdirSync(buildDir).filter((name) => name.endsWith('.json'));

    // When the sources are compiled again in memory
    const { files, warnings } = compile();

    // Then the same files come out, byte for byte, without a compiler warning
    expect([...files.keys()].sort()).toEqual(committed.sort());
    for (const [name, content] of files) {
      expect(content, `contracts/build/${name} is stale; run node scripts/build-contracts.js`).toBe(
        readFileSync(path.join(buildDir, name), 'utf8'),
      );
    }
    expect(warnings).toEqual([]);
  });

  it('pins London, the optimizer and solc 0.8.37, and the recorded input alone reproduces the bytecode', () => {
    // Given the committed standard-JSON input and artifacts
    const buildDir = path.join(repoRoot, 'contracts/build');
    const input = JSON.parse(readFileSync(path.join(buildDir, 'solc-input.json'), 'utf8'));
    const solc = createRequire(import.meta.url)('solc') as {
      compile(input: string): string;
      version(): string;
    };

    // When solc compiles that input with no access to any file
    const output = JSON.parse(solc.compile(JSON.stringify(input)));

    // Then it needs nothing else and yields the committed runtime code of each contract
    expect(output.errors ?? []).toEqual([]);
    expect(input.settings).toMatchObject({
      evmVersion: 'london',
      optimizer: { enabled: true, runs: 200 },
      metadata: { bytecodeHash: 'none' },
    });
    expect(Object.keys(input.sources).every((name) => !path.isAbsolute(name))).toBe(true);
    for (const name of ['PointsToken', 'Badges', 'ActivityLog']) {
      const artifact = JSON.parse(readFileSync(path.join(buildDir, `${name}.json`), 'utf8'));
      const compiled = output.contracts[`contracts/src/${name}.sol`][name];
      expect(artifact.solcVersion).toMatch(/^0\.8\.37\+commit\./);
      expect(artifact.deployedBytecode).toBe(`0x${compiled.evm.deployedBytecode.object}`);
      expect(artifact.bytecode).toBe(`0x${compiled.evm.bytecode.object}`);
    }
  });

  it('fails loudly with file:line:column and a non-zero exit on a compiler error', () => {
    // Given a package whose only contract has a syntax error on line 4
    const root = aPackageWith({
      'Broken.sol':
        '// SPDX-License-Identifier: Apache-2.0\npragma solidity 0.8.37;\ncontract Broken {\n  uint256 x = 1\n}\n',
    });

    // When the build script runs there
    const run = spawnSync(process.execPath, [path.join(root, 'scripts/build-contracts.js')], {
      encoding: 'utf8',
    });

    // Then it exits non-zero naming the file and line, and writes nothing
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/contracts\/src\/Broken\.sol:5:1: error ParserError: Expected ';'/);
    expect(() => readdirSync(path.join(root, 'contracts/build'))).toThrow();
  });

  it('gives the same bytecode from another checkout path', () => {
    // Given the ActivityLog source copied into a package elsewhere
    const source = readFileSync(path.join(repoRoot, 'contracts/src/ActivityLog.sol'), 'utf8');
    const root = aPackageWith({ 'ActivityLog.sol': source });

    // When it is compiled there
    const { files } = compile({ rootDir: root });

    // Then its artifact is identical to the committed one
    expect(files.get('ActivityLog.json')).toBe(
      readFileSync(path.join(repoRoot, 'contracts/build/ActivityLog.json'), 'utf8'),
    );
  });
});
