// Runs one fixed command on the backed-up host over the same ssh settings as rsync, the way the
// transfer runs rsync: its own process group under setpriv --pdeathsig, heartbeats, cancellation kills
// the group, and ssh's own failures turned into retry decisions.
import { Context } from '@temporalio/activity';
import { activityFailure } from '../domain/failures.js';
import type { BackupPlan } from '../domain/backup.js';
import { sshArgv } from '../domain/rsync-args.js';
import { sshRefusal } from './ssh-failure.js';
import { startChild } from '../subprocess/runner.js';

const heartbeatEveryMs = 1_000;
const outputLimit = 4 * 1024 * 1024;

export interface SshRunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The local deadline passed and the process group was killed. */
  timedOut: boolean;
  durationMs: number;
}

export interface SshRunOptions {
  /** Kill ssh (and with it the remote command's watcher) after this long. */
  timeoutMs: number;
  /** Heartbeat details, called once a second. */
  details?: () => unknown;
}

export async function runOverSsh(
  plan: Pick<BackupPlan, 'ssh' | 'source'>,
  command: string,
  options: SshRunOptions,
): Promise<SshRunResult> {
  const context = Context.current();
  const started = Date.now();
  const [, ...args] = sshArgv(plan, command);
  // stdin stays an open pipe: the remote hook watcher treats its end-of-file as "the server went away".
  const run = startChild('ssh', args, {
    stdin: 'pipe',
    encoding: 'utf8',
    maxBuffer: outputLimit,
    stripFinalNewline: false,
    timeoutMs: options.timeoutMs,
    signal: context.cancellationSignal,
  });
  const beat = () => context.heartbeat(options.details?.() ?? { elapsedMs: Date.now() - started });
  const heartbeat = setInterval(beat, heartbeatEveryMs);
  beat();
  let result;
  try {
    result = await run.result;
  } finally {
    clearInterval(heartbeat);
  }
  const timedOut = run.timedOut();
  if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
  return {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    timedOut,
    durationMs: Date.now() - started,
  };
}

/** Throws for ssh's own failures: host key and login refusals at once, connection trouble retryably. */
export function throwOnSshFailure(plan: Pick<BackupPlan, 'ssh' | 'source'>, what: string, result: SshRunResult): void {
  const source = `${plan.source.user}@${plan.source.address}:${plan.source.port}`;
  const stderr = result.stderr.trim();
  const refusal = sshRefusal(plan, stderr);
  if (refusal) throw refusal;
  if (result.exitCode === 255 || result.exitCode === -1) {
    const how = result.exitCode === 255 ? 'exited 255' : 'was killed';
    throw activityFailure(
      `${what}: ssh to ${source} ${how}: ${stderr.split('\n').slice(-5).join(' ') || '(no error output)'}`,
      'SshTransient',
    );
  }
}
