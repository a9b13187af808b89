// Regenerates the generated sections of README.md: the command reference (oclif readme), the
// exit-code table and the network spec reference. With --check it writes nothing and exits 1
// when README.md is not what it would write (the drift test runs it that way).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exitCodeMeanings } from '../dist/cli/exit-codes.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readmePath = join(root, 'README.md');
const check = process.argv.includes('--check');

function replaceSection(text, name, body) {
  const start = `<!-- ${name} -->`;
  const stop = `<!-- ${name}stop -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(stop);
  if (from < 0 || to < from) throw new Error(`README.md lacks the markers ${start} ... ${stop}`);
  return `${text.slice(0, from + start.length)}\n${body.trim()}\n${text.slice(to)}`;
}

function commandReference() {
  const scratch = mkdtempSync(join(tmpdir(), 'peruri-readme-'));
  try {
    const copy = join(scratch, 'README.md');
    copyFileSync(readmePath, copy);
    execFileSync(
      join(root, 'node_modules/.bin/oclif'),
      ['readme', '--readme-path', copy, '--no-aliases', '--no-source-links'],
      {
        cwd: root,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, OCLIF_SKIP_NEW_VERSION_CHECK: 'true' },
      },
    );
    const text = readFileSync(copy, 'utf8');
    return text.slice(
      text.indexOf('<!-- commands -->') + '<!-- commands -->'.length,
      text.indexOf('<!-- commandsstop -->'),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function exitCodeTable() {
  return [
    '| code | meaning |',
    '|---|---|',
    ...exitCodeMeanings.map(({ code, meaning }) => `| ${code} | ${meaning} |`),
  ].join('\n');
}

function specReference() {
  const schema = JSON.parse(readFileSync(join(root, 'network.schema.json'), 'utf8'));
  const rows = [];
  const walk = (node, path, required) => {
    if (node.type === 'object' && node.properties) {
      for (const [key, child] of Object.entries(node.properties)) {
        if (key === '$schema') continue;
        walk(child, path ? `${path}.${key}` : key, (node.required ?? []).includes(key));
      }
      return;
    }
    if (node.type === 'array' && node.items) {
      rows.push(row(path, 'list', required, node));
      walk(node.items, `${path}[]`, false);
      return;
    }
    rows.push(
      row(
        path,
        node.enum ? node.enum.map((value) => `\`${value}\``).join(' \\| ') : node.type,
        required,
        node,
      ),
    );
  };
  const row = (path, type, required, node) => {
    const fallback =
      node.default === undefined ? (required ? '**required**' : '') : `\`${JSON.stringify(node.default)}\``;
    return `| \`${path}\` | ${type} | ${fallback} | ${(node.description ?? '').replace(/\|/g, '\\|')} |`;
  };
  walk(schema, '', true);
  return ['| field | type | default | description |', '|---|---|---|---|', ...rows].join('\n');
}

const current = readFileSync(readmePath, 'utf8');
let next = replaceSection(current, 'commands', commandReference());
next = replaceSection(next, 'exit-codes', exitCodeTable());
next = replaceSection(next, 'spec-reference', specReference());
if (check) {
  if (next !== current) {
    console.error(
      'README.md is out of date with the commands, exit codes or spec schema: run `npm run docs`.',
    );
    process.exit(1);
  }
} else {
  writeFileSync(readmePath, next);
}
