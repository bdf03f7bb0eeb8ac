// Which exit codes each verb can end with, and what they mean there. The numbers and general meanings come
// from the one table in domain/errors.ts; `--help` and docs/reference/exit-codes.md are generated from both.
import { ExitCode, exitCodeMeaning, type ExitCodeName } from '../domain/errors.js';

/** A code by its name, with what it means for this verb when that is more precise than the general meaning. */
type VerbCode = ExitCodeName | [ExitCodeName, string];

const temporalDown: VerbCode = 'unavailable';
const pool = (what: string): VerbCode[] => [
  ['ok', what],
  ['usage', 'bad option or inventory, unknown host, or no dataset of the host on this machine'],
];

/** `status` speaks Nagios instead (its own table: a monitoring system reads these, not a script). */
export const nagiosExitCodes: Array<[number, string]> = [
  [0, "OK: every pair's last run ended SUCCESS recently enough for its schedule"],
  [
    1,
    'WARNING: a last run ended WARNING or CANCELLED, or a last SUCCESS is older than its staleAfter (default 2 intervals)',
  ],
  [
    2,
    'CRITICAL: a last run FAILED, a last SUCCESS is older than criticalAfter (default 4 intervals), or a pair past its first due time was never backed up; also a bad option or inventory',
  ],
  [3, 'UNKNOWN, with --nagios only: Temporal could not be asked (without --nagios that is exit 4)'],
  [4, 'without --nagios: Temporal could not be reached'],
];

/** Every verb by its full name ("config check"); a test checks each command of the CLI is listed. */
export const verbExitCodes: Record<string, VerbCode[]> = {
  'start-backup': [
    ['ok', 'started (without --wait); the backup ended SUCCESS (with --wait; also WARNING with --ok-on-warning)'],
    ['backupFailed', 'with --wait: a backup ended FAILED or could not be followed (wins over 5)'],
    ['backupWarning', 'with --wait: a backup ended WARNING and none FAILED'],
    'usage',
    ['alreadyRunning', 'without --wait: a backup of the host on that server is already running'],
    temporalDown,
  ],
  'cancel-backup': [['ok', 'cancel requested, or nothing was running'], 'usage', temporalDown],
  snapshots: pool('listed'),
  prune: [
    ['ok', 'the plan was applied (or shown, with --dry-run)'],
    ['backupFailed', 'a planned snapshot was kept because a last check refused to destroy it'],
    'usage',
  ],
  release: pool('released'),
  'adopt-dataset': pool('adopted'),
  report: [['ok', 'the report was printed'], ['usage', 'bad --month or --group, or --json with --csv'], temporalDown],
  'rename-host': [
    ['ok', 'renamed'],
    ['usage', "NEW has a dataset already, OLD has none here (or is not Tidemark's), or a bad name"],
    ['alreadyRunning', 'a backup of OLD is running: try again when it has ended'],
    temporalDown,
  ],
  decommission: [
    ['ok', 'decommissioned (or destroyed, with --destroy)'],
    ['usage', 'bad option, no dataset of the host here, or --destroy before its 30 days'],
    ['alreadyRunning', 'a backup of the host is running: try again when it has ended'],
    temporalDown,
  ],
  restore: [
    ['ok', 'restored (with --wait or --dry-run); started (without)'],
    ['backupFailed', 'the restore failed; the message says during which step'],
    [
      'usage',
      'the request cannot work as given: no such snapshot or path, target / without --yes-overwrite-live-system, bad option',
    ],
    temporalDown,
  ],
  files: pool('listed'),
  history: pool('listed'),
  find: pool('listed (no match is not an error)'),
  verify: [
    ['ok', 'every checked file matched and restored identically'],
    ['backupFailed', 'a mismatch, a restored file that differs, or the host could not be read'],
    ['usage', 'bad option, or no complete snapshot to check'],
  ],
  worker: [
    ['ok', 'stopped by SIGTERM or SIGINT'],
    ['usage', 'invalid inventory or unknown --server: fix it, then restart (systemd does not retry this)'],
    ['unavailable', 'Temporal could not be reached (systemd restarts the worker)'],
  ],
  hosts: [['ok', 'listed'], 'usage'],
  'host-setup': [['ok', 'printed'], 'usage'],
  'host-key': [
    ['ok', "printed, or the machine's key is already listed under its name"],
    [
      'backupFailed',
      'no key could be scanned, or the machine answers with other keys than known_hosts lists for its name or address: nothing printed',
    ],
    'usage',
  ],
  'config check': [
    ['ok', 'the inventory is valid'],
    ['usage', 'the inventory is invalid (every problem is listed)'],
  ],
  sync: [
    ['ok', 'the schedules match the inventory (or, with --dry-run, the plan was printed)'],
    [
      'backupFailed',
      'a schedule could not be changed, a large drop in hosts was refused without --force, or NetBox could not be read (then nothing was changed)',
    ],
    'usage',
    temporalDown,
  ],
  schedules: [['ok', 'listed'], 'usage', temporalDown],
  pause: [
    ['ok', 'paused'],
    ['usage', 'bad option, or no Tidemark schedule for the host ("tidemark sync" first)'],
    temporalDown,
  ],
  resume: [
    ['ok', 'resumed'],
    ['usage', 'bad option, or no Tidemark schedule for the host ("tidemark sync" first)'],
    temporalDown,
  ],
  trigger: [
    ['ok', 'started (or pending) on at least one server'],
    'usage',
    ['alreadyRunning', 'skipped on every server: that backup is already running'],
    temporalDown,
  ],
  'temporal setup': [['ok', 'the search attributes are registered'], 'usage', temporalDown],
  web: [
    ['ok', 'stopped by SIGINT or SIGTERM'],
    ['usage', 'bad option, or a non-loopback --listen without TLS and authentication'],
    temporalDown,
  ],
  'web-password': [
    ['ok', 'the line is printed'],
    ['usage', 'bad name, or a password under 8 characters'],
  ],
  'web-audit': [['ok', 'printed']],
};

/** [code, meaning] rows of a verb, in code order; undefined for a verb not in the table. Any verb may also end
 * with 1 on an unexpected error (client/cli.ts), which is listed when the verb has no 1 of its own. */
export function exitCodeRows(verb: string): Array<[number, string]> | undefined {
  if (verb === 'status') return nagiosExitCodes;
  const codes = verbExitCodes[verb];
  if (!codes) return undefined;
  const rows = codes.map((entry): [number, string] => {
    const [name, meaning] = typeof entry === 'string' ? [entry, exitCodeMeaning[entry]] : entry;
    return [ExitCode[name], meaning];
  });
  if (!rows.some(([code]) => code === ExitCode.backupFailed))
    rows.push([ExitCode.backupFailed, 'an unexpected error (printed on stderr)']);
  return rows.sort((a, b) => a[0] - b[0]);
}

/** The block `--help` ends with: "Exit codes:" and one line per code. */
export function exitCodesHelp(verb: string): string {
  const rows = exitCodeRows(verb) ?? [];
  return rows.length === 0 ? '' : `\nExit codes:\n${rows.map(([code, meaning]) => `  ${code}  ${meaning}`).join('\n')}`;
}
