// Errors that reach an operator: a stable code, a message naming the culprit, and the CLI exit code.

/** Exit codes of the `tidemark` CLI. Scripts and monitoring may rely on them. */
export const ExitCode = {
  ok: 0,
  /** The backup ran and failed (or ended in a state worse than WARNING). */
  backupFailed: 1,
  /** Bad command line or invalid inventory: nothing was started. */
  usage: 2,
  /** A backup of the same host and server is already running. */
  alreadyRunning: 3,
  /** Temporal could not be reached. */
  unavailable: 4,
  /** With --wait: the run finished but ended WARNING (e.g. the shrink guard held the copy back, a
   * filesystem was not mounted, a partial transfer): the copy is there but needs a look. 1 wins when
   * another of the runs failed. `--ok-on-warning` turns it into 0. Without --wait nothing is known yet. */
  backupWarning: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
export type ExitCodeName = keyof typeof ExitCode;

/** What each exit code means in general; `--help` and docs/reference/exit-codes.md are generated from this
 * table and each verb's list in client/exit-codes.ts (which may say more precisely what a code means there). */
export const exitCodeMeaning: Record<ExitCodeName, string> = {
  ok: 'success (a backup that ended WARNING is a success too)',
  backupFailed: 'the work failed (a backup, a restore, a check); the message on stderr says which step and why',
  usage: 'bad command line or invalid inventory: nothing was started',
  alreadyRunning: 'a backup of the same host and server is already running',
  unavailable: 'Temporal could not be reached',
  backupWarning: 'with --wait: a run ended WARNING (the copy is there but needs a look); --ok-on-warning makes it 0',
};

export type TidemarkErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'USAGE'
  | 'UNKNOWN_HOST'
  | 'PREREQUISITE'
  | 'ALREADY_RUNNING'
  | 'TEMPORAL_UNAVAILABLE';

const exitCodeOf: Record<TidemarkErrorCode, ExitCode> = {
  CONFIG_INVALID: ExitCode.usage,
  CONFIG_NOT_FOUND: ExitCode.usage,
  USAGE: ExitCode.usage,
  UNKNOWN_HOST: ExitCode.usage,
  // A tool on this machine is missing or too old: nothing was started, like a bad command line.
  PREREQUISITE: ExitCode.usage,
  ALREADY_RUNNING: ExitCode.alreadyRunning,
  TEMPORAL_UNAVAILABLE: ExitCode.unavailable,
};

/** An error meant for an operator's eyes: the message says what is wrong and how to fix it. */
export class TidemarkError extends Error {
  readonly code: TidemarkErrorCode;
  readonly exitCode: ExitCode;
  constructor(code: TidemarkErrorCode, message: string) {
    super(message);
    this.name = 'TidemarkError';
    this.code = code;
    this.exitCode = exitCodeOf[code];
  }
}
