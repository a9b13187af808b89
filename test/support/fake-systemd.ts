import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { aTempDir } from './temp-dir.js';

/**
 * Test machines have no systemd (no PID 1 systemd in these containers), so `systemctl` and
 * `journalctl` are stand-ins put first on the PATH of the test sshd's sessions. They record every
 * call and, for `start`/`restart`, really run the unit's ExecStart in the background (with its
 * quoted Environment= lines, EnvironmentFile and WorkingDirectory), so what the unit starts is exercised; `is-active`,
 * `stop`, `reload` (SIGHUP, as the units' ExecReload sends) and `journalctl -u` act on that process and its output. Not modelled: dependencies,
 * Restart=, User=, sandboxing, and systemd's own quoting of EnvironmentFile values (the file is
 * read with the shell's `.`, which agrees for the values the tests use).
 */
export interface FakeSystemd {
  /** Put this first on PATH. */
  binDir: string;
  /** Where deploy is told to install unit files (--systemd-unit-dir). */
  unitDir: string;
  /** Environment for the sshd sessions (SetEnv). */
  env: Record<string, string>;
  /** Every systemctl call so far, as `systemctl <args>`. */
  calls(): Promise<string[]>;
  /** The output a unit's process wrote so far. */
  log(unit: string): Promise<string>;
}

const SYSTEMCTL = `#!/bin/sh
state="$FAKE_SYSTEMD_STATE"
units="$FAKE_SYSTEMD_UNITS"
echo "systemctl $*" >> "$state/calls"
running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }
stop_unit() {
  if running "$1"; then
    pid=$(cat "$state/$1.pid"); kill "$pid" 2>/dev/null
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$state/$1.pid"
}
start_unit() {
  file="$units/$1"
  [ -f "$file" ] || { echo "Failed to start $1: Unit $1 not found." >&2; exit 5; }
  exec_start=$(sed -n 's/^ExecStart=//p' "$file")
  env_file=$(sed -n 's/^EnvironmentFile=//p' "$file")
  work_dir=$(sed -n 's/^WorkingDirectory=//p' "$file")
  env_lines=$(sed -n 's/^Environment="\\(.*\\)"$/\\1/p' "$file")
  setsid sh -c 'cd "$1" || exit 1; set -f; IFS="
"; for kv in $3; do export "$kv"; done; unset IFS; set +f
    if [ -n "$2" ]; then set -a; . "$2"; set +a; fi; shift 3; exec "$@"' \\
    sh "\${work_dir:-/}" "$env_file" "$env_lines" $exec_start < /dev/null >> "$state/$1.log" 2>&1 &
  echo $! > "$state/$1.pid"
}
command="$1"; shift
case "$command" in
  daemon-reload) exit 0 ;;
  enable|disable) [ -f "$units/$1" ] || { echo "Unit $1 does not exist." >&2; exit 1; }; exit 0 ;;
  is-active)
    quiet=; if [ "$1" = --quiet ]; then quiet=1; shift; fi
    if running "$1"; then [ -z "$quiet" ] && echo active; exit 0; fi
    [ -z "$quiet" ] && { if [ -f "$units/$1" ]; then echo inactive; else echo inactive; fi; }
    exit 3 ;;
  stop) [ -f "$units/$1" ] || exit 5; stop_unit "$1" ;;
  start) running "$1" || start_unit "$1" ;;
  restart) stop_unit "$1"; start_unit "$1" ;;
  reload)
    running "$1" || { echo "Job for $1 failed: the unit is not active." >&2; exit 1; }
    grep -q '^ExecReload=' "$units/$1" || { echo "Failed to reload $1: Job type reload is not applicable for unit $1." >&2; exit 1; }
    kill -HUP "$(cat "$state/$1.pid")" ;;
  *) echo "fake systemctl: $command not supported" >&2; exit 1 ;;
esac
`;

const JOURNALCTL = `#!/bin/sh
unit=; lines=10
while [ $# -gt 0 ]; do
  case "$1" in
    -u) unit="$2"; shift 2 ;;
    -n) lines="$2"; shift 2 ;;
    *) shift ;;
  esac
done
touch "$FAKE_SYSTEMD_STATE/$unit.log"
tail -n "$lines" "$FAKE_SYSTEMD_STATE/$unit.log"
`;

/**
 * Makes the fake systemctl and journalctl; every process they started is killed when the test
 * finishes.
 */
export async function aFakeSystemd(): Promise<FakeSystemd> {
  const root = await aTempDir('peruri-systemd-');
  const binDir = join(root, 'bin');
  const unitDir = join(root, 'units');
  const state = join(root, 'state');
  await mkdir(binDir);
  await mkdir(unitDir);
  await mkdir(state);
  await writeFile(join(binDir, 'systemctl'), SYSTEMCTL);
  await writeFile(join(binDir, 'journalctl'), JOURNALCTL);
  await chmod(join(binDir, 'systemctl'), 0o755);
  await chmod(join(binDir, 'journalctl'), 0o755);
  onTestFinished(async () => {
    for (const name of await readdir(state)) {
      if (!name.endsWith('.pid')) continue;
      const pid = Number(await readFile(join(state, name), 'utf8'));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  return {
    binDir,
    unitDir,
    env: {
      PATH: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      FAKE_SYSTEMD_STATE: state,
      FAKE_SYSTEMD_UNITS: unitDir,
    },
    calls: async () =>
      (await readFile(join(state, 'calls'), 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line !== ''),
    log: (unit) => readFile(join(state, `${unit}.log`), 'utf8').catch(() => ''),
  };
}
