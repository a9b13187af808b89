#!/usr/bin/env node
// Compiles contracts/src/*.sol reproducibly into contracts/build/.
//
//   node scripts/build-contracts.js           write contracts/build/
//   node scripts/build-contracts.js --check   compile in memory, exit 1 if contracts/build/ differs
//
// Plain JavaScript so that it runs before tsc. The standard-JSON input is self-contained: every
// imported file is read here and keyed by a checkout-independent source name
// ("contracts/src/PointsToken.sol", "@openzeppelin/contracts/..."), so the output depends only on
// the sources, the pinned compiler and the pinned settings.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The compiler release the artifacts are built with; any other solc in node_modules is refused. */
export const SOLC_VERSION = '0.8.37';

/** The OpenZeppelin release the contracts are written against (5.5+ needs Cancun for ERC-1155). */
export const OPENZEPPELIN_VERSION = '5.4.0';

/**
 * Every compiler setting that affects bytecode, in one place. London because the genesis has no
 * later milestone; bytecodeHash "none" so comment-only source edits keep the runtime code (and so
 * the hash recorded for a deployed contract) unchanged.
 */
export const SOLC_SETTINGS = Object.freeze({
  evmVersion: 'london',
  optimizer: { enabled: true, runs: 200 },
  metadata: { bytecodeHash: 'none' },
  outputSelection: {
    '*': {
      '*': [
        'abi',
        'evm.bytecode.object',
        'evm.deployedBytecode.object',
        'evm.deployedBytecode.immutableReferences',
      ],
    },
  },
});

const SOURCE_DIR = 'contracts/src';
const BUILD_DIR = 'contracts/build';
const INPUT_FILE = 'solc-input.json';

/** The package root: the directory above scripts/. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A compiler or resolution failure; its message lists every problem as file:line:column. */
export class ContractsBuildError extends Error {
  constructor(message, problems = []) {
    super([message, ...problems.map((p) => `  ${p}`)].join('\n'));
    this.name = 'ContractsBuildError';
    this.problems = problems;
  }
}

/**
 * Compiles the contracts in memory.
 * @param {{ rootDir?: string }} [options] the package root (defaults to this checkout)
 * @returns {{ files: Map<string, string>, warnings: string[] }} contracts/build file name → exact
 *   file content, and the compiler's warnings formatted as file:line:column
 */
export function compileContracts({ rootDir = PACKAGE_ROOT } = {}) {
  const solc = loadPinnedSolc(rootDir);
  checkOpenZeppelinVersion(rootDir);
  const sources = collectSources(rootDir);
  const input = { language: 'Solidity', sources, settings: SOLC_SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));

  const diagnostics = (output.errors ?? []).map((e) => ({
    severity: e.severity,
    text: formatDiagnostic(e, sources),
  }));
  const errors = diagnostics.filter((d) => d.severity === 'error').map((d) => d.text);
  if (errors.length > 0) {
    throw new ContractsBuildError(`solc ${SOLC_VERSION} failed with ${errors.length} error(s):`, errors);
  }
  const warnings = diagnostics.filter((d) => d.severity !== 'error').map((d) => d.text);

  const files = new Map();
  const ownSources = Object.keys(sources).filter((name) => name.startsWith(`${SOURCE_DIR}/`));
  for (const sourceName of ownSources) {
    for (const [contractName, compiled] of Object.entries(output.contracts?.[sourceName] ?? {})) {
      const bytecode = compiled.evm.bytecode.object;
      // Interfaces and abstract contracts have no code; only deployable contracts get an artifact.
      if (bytecode.length === 0) continue;
      // The deploy step proves a deployment by comparing its runtime code byte for byte with the
      // artifact; an immutable would put constructor-dependent bytes into that code.
      if (Object.keys(compiled.evm.deployedBytecode.immutableReferences ?? {}).length > 0) {
        throw new ContractsBuildError(`${sourceName}: ${contractName} declares immutables`, [
          'keep constructor values in storage so deployments can be verified against the build',
        ]);
      }
      const artifact = {
        contractName,
        sourceName,
        abi: compiled.abi,
        bytecode: `0x${bytecode}`,
        deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
        solcVersion: solc.version(),
        settings: SOLC_SETTINGS,
      };
      files.set(`${contractName}.json`, stableJson(artifact));
    }
  }
  files.set(INPUT_FILE, stableJson(input));
  return { files, warnings };
}

/**
 * Compiles and writes contracts/build/, removing artifacts of contracts that no longer exist.
 * @param {{ rootDir?: string }} [options] the package root (defaults to this checkout)
 * @returns {{ written: string[], warnings: string[] }} the files written, relative to the root
 */
export function buildContracts({ rootDir = PACKAGE_ROOT } = {}) {
  const { files, warnings } = compileContracts({ rootDir });
  const buildDir = path.join(rootDir, BUILD_DIR);
  mkdirSync(buildDir, { recursive: true });
  for (const name of readdirSync(buildDir)) {
    if (name.endsWith('.json') && !files.has(name)) rmSync(path.join(buildDir, name));
  }
  const written = [];
  for (const [name, content] of files) {
    writeFileSync(path.join(buildDir, name), content);
    written.push(`${BUILD_DIR}/${name}`);
  }
  return { written, warnings };
}

/**
 * Compiles in memory and lists the contracts/build files that differ from the fresh output.
 * @param {{ rootDir?: string }} [options] the package root (defaults to this checkout)
 * @returns {string[]} relative paths that are missing, stale or extra; empty when up to date
 */
export function checkContractsBuild({ rootDir = PACKAGE_ROOT } = {}) {
  const { files } = compileContracts({ rootDir });
  const buildDir = path.join(rootDir, BUILD_DIR);
  const differing = [];
  for (const [name, content] of files) {
    const file = path.join(buildDir, name);
    if (!existsSync(file) || readFileSync(file, 'utf8') !== content) differing.push(`${BUILD_DIR}/${name}`);
  }
  if (existsSync(buildDir)) {
    for (const name of readdirSync(buildDir)) {
      if (name.endsWith('.json') && !files.has(name)) differing.push(`${BUILD_DIR}/${name}`);
    }
  }
  return differing.sort();
}

function loadPinnedSolc(rootDir) {
  const solc = createRequire(path.join(rootDir, 'package.json'))('solc');
  const version = solc.version();
  if (!version.startsWith(`${SOLC_VERSION}+`)) {
    throw new ContractsBuildError(
      `solc ${version} is installed; the contracts are built with ${SOLC_VERSION}`,
      [`run: npm install --save-exact --save-dev solc@${SOLC_VERSION}`],
    );
  }
  return solc;
}

function checkOpenZeppelinVersion(rootDir) {
  const manifest = path.join(packageDir(rootDir, '@openzeppelin/contracts'), 'package.json');
  const { version } = JSON.parse(readFileSync(manifest, 'utf8'));
  if (version !== OPENZEPPELIN_VERSION) {
    throw new ContractsBuildError(
      `@openzeppelin/contracts ${version} is installed; the contracts are built with ${OPENZEPPELIN_VERSION}`,
      [`run: npm install --save-exact @openzeppelin/contracts@${OPENZEPPELIN_VERSION}`],
    );
  }
}

// Reads the project's sources and, transitively, every file they import, keyed by the source
// unit names solc itself would use, sorted so the input JSON is stable.
function collectSources(rootDir) {
  const sourceDir = path.join(rootDir, SOURCE_DIR);
  const roots = readdirSync(sourceDir)
    .filter((name) => name.endsWith('.sol'))
    .sort()
    .map((name) => `${SOURCE_DIR}/${name}`);
  if (roots.length === 0) throw new ContractsBuildError(`no .sol files in ${SOURCE_DIR}`);

  const found = new Map();
  const pending = roots.map((name) => ({ name, importedBy: undefined }));
  while (pending.length > 0) {
    const { name, importedBy } = pending.pop();
    if (found.has(name)) continue;
    const file = resolveSourceFile(rootDir, name);
    if (!existsSync(file)) {
      throw new ContractsBuildError(`cannot resolve import "${name}"`, [
        `${importedBy ?? name}: imports ${name}, looked for ${path.relative(rootDir, file)}`,
      ]);
    }
    const content = readFileSync(file, 'utf8');
    found.set(name, content);
    for (const target of importsOf(content)) {
      pending.push({ name: resolveImportName(name, target), importedBy: name });
    }
  }
  const sources = {};
  for (const name of [...found.keys()].sort()) sources[name] = { content: found.get(name) };
  return sources;
}

function importsOf(content) {
  // Comments are dropped first so that import examples in NatSpec are not followed.
  const code = content.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  return [...code.matchAll(/\bimport\s+(?:[^;"']*?\bfrom\s+)?["']([^"']+)["']/g)].map((m) => m[1]);
}

// Solidity resolves "./x" and "../x" against the importing unit's name; anything else is a name
// already (https://docs.soliditylang.org/en/v0.8.37/path-resolution.html).
function resolveImportName(importer, target) {
  if (!target.startsWith('./') && !target.startsWith('../')) return target;
  return path.posix.normalize(path.posix.join(path.posix.dirname(importer), target));
}

function resolveSourceFile(rootDir, name) {
  if (!name.startsWith('@')) return path.join(rootDir, name);
  const [scope, pkg, ...rest] = name.split('/');
  return path.join(packageDir(rootDir, `${scope}/${pkg}`), ...rest);
}

function packageDir(rootDir, packageName) {
  try {
    return path.dirname(
      createRequire(path.join(rootDir, 'package.json')).resolve(`${packageName}/package.json`),
    );
  } catch {
    return path.join(rootDir, 'node_modules', packageName);
  }
}

function formatDiagnostic(error, sources) {
  const location = error.sourceLocation;
  let where = '';
  if (location?.file) {
    const content = sources[location.file]?.content ?? '';
    const before = content.slice(0, Math.max(0, location.start));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    where = `${location.file}:${line}:${column}: `;
  }
  return `${where}${error.severity} ${error.type}: ${error.message}`;
}

// Two-space JSON with a final newline; key order is the construction order above, which is fixed.
function stableJson(value) {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function main(argv) {
  const check = argv.includes('--check');
  try {
    if (check) {
      const differing = checkContractsBuild();
      if (differing.length > 0) {
        process.stderr.write(
          `contracts/build is out of date; run: node scripts/build-contracts.js\n${differing
            .map((f) => `  ${f}\n`)
            .join('')}`,
        );
        return 1;
      }
      process.stderr.write('contracts/build is up to date\n');
      return 0;
    }
    const { written, warnings } = buildContracts();
    for (const warning of warnings) process.stderr.write(`${warning}\n`);
    process.stderr.write(`wrote ${written.join(', ')}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`${error instanceof ContractsBuildError ? error.message : error.stack}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
