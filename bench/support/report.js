// What the benchmark scripts share: the machine line, their section of bench/RESULTS.md, a free
// port, and running the built CLI.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const cli = join(root, 'bin/run.js');

/** "2-core Debian GNU/Linux 12 (bookworm) x64 (AMD EPYC …), Node v20.20.2". */
export function machine() {
  const os = readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="(.*)"/)?.[1] ?? process.platform;
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpus().length}-core ${os} ${process.arch} (${cpu}), Node ${process.version}`;
}

/**
 * Replaces the text between `<!-- bench:NAME -->` and `<!-- bench:NAME-stop -->` in
 * bench/RESULTS.md (markers included in `text`), keeping everything else; a section not there yet
 * goes after the title (`first`) or at the end.
 */
export function replaceSection(name, text, { first = false } = {}) {
  const file = join(root, 'bench/RESULTS.md');
  const current = readFileSync(file, 'utf8');
  const startMarker = `<!-- bench:${name} -->`;
  const stopMarker = `<!-- bench:${name}-stop -->`;
  const start = current.indexOf(startMarker);
  const stop = current.indexOf(stopMarker);
  let next;
  if (start >= 0 && stop > start) {
    next = current.slice(0, start) + text + current.slice(stop + stopMarker.length);
  } else if (first) {
    next = current.replace(/^# Benchmark results\n/, `# Benchmark results\n\n${text}\n`);
  } else {
    next = `${current.trimEnd()}\n\n${text}\n`;
  }
  writeFileSync(file, next);
}

/** A loopback port free a moment ago. */
export function freePort() {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Runs the built CLI to completion; throws with its stderr when it fails. */
export function runCli(args, env = process.env) {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}`);
  return result;
}
